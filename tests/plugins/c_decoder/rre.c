/*
 * An RRE decoder (RFC 6143, 7.7.3) written in C against
 * virt_manager_plugin.h: proof that the decoder ABI is language-neutral.
 *
 * A push parser: it consumes the rectangle header and then every complete
 * subrectangle it was given (VMM_DECODE_PARTIAL), keeping how many remain
 * in its instance, and asks for more bytes only when it cannot progress.
 *
 * Build: cc -shared -fPIC -I plugins/api/include -o librre_c.so rre.c
 */

#include <stdlib.h>
#include <string.h>

#include "virt_manager_plugin.h"

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "c-rre"
#endif
/* Tests build a broken variant with a table that claims to be too short. */
#ifndef DECODER_TABLE_SIZE
#define DECODER_TABLE_SIZE sizeof(VmmDecoderVtable)
#endif

#define ENCODING_RRE 2
#define HEADER_LEN 8   /* u32 count, background pixel */
#define SUBRECT_LEN 12 /* pixel, u16 x, y, w, h */

static const VmmHostApi *host;

typedef struct {
    int in_rect;         /* the header of the current rectangle is read */
    uint32_t remaining;  /* subrectangles still to come */
} Rre;

static void say(VmmWriter w, const char *text) {
    w.write(w.ctx, (const uint8_t *)text, strlen(text));
}

static void log_debug(const char *text) {
    /* Only use host fields that the host's table is long enough to hold. */
    if (host && VMM_HAS_FIELD(host->size, VmmHostApi, log)) {
        VmmBytes target = {(const uint8_t *)PLUGIN_NAME, strlen(PLUGIN_NAME)};
        VmmBytes message = {(const uint8_t *)text, strlen(text)};
        host->log(VMM_LOG_DEBUG, target, message);
    }
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Pixels arrive in the negotiated format: the host's native-endian words. */
static uint32_t pixel(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void fill(const VmmFramebuffer *fb, const VmmRect *r, uint16_t x, uint16_t y, uint16_t w,
                 uint16_t h, uint32_t value) {
    for (uint32_t row = 0; row < h; row++) {
        uint32_t *line = (uint32_t *)(fb->pixels + (size_t)(r->y + y + row) * fb->stride) + r->x + x;
        for (uint32_t col = 0; col < w; col++) line[col] = value;
    }
}

static VmmStatus info(VmmWriter out, VmmWriter err) {
    (void)err;
    say(out, "{\"encodings\":[{\"encoding\":2,\"name\":\"RRE\"}]}");
    return VMM_OK;
}

static VmmStatus create(int32_t encoding, const VmmPixelFormat *format, VmmDecoderHandle *instance,
                        VmmWriter err) {
    if (encoding != ENCODING_RRE) {
        say(err, "this library decodes RRE only");
        return VMM_ERROR_NOT_SUPPORTED;
    }
    if (format->bits_per_pixel != 32 || !format->true_colour) {
        say(err, "RRE in C: only 32-bit true-colour pixels");
        return VMM_ERROR_NOT_SUPPORTED;
    }
    Rre *rre = calloc(1, sizeof *rre);
    if (!rre) {
        say(err, "out of memory");
        return VMM_ERROR_FAILED;
    }
    *instance = rre;
    log_debug("RRE decoder created");
    return VMM_OK;
}

static void destroy(VmmDecoderHandle instance) { free(instance); }

static VmmStatus decode(VmmDecoderHandle instance, const VmmRect *rect, VmmBytes data,
                        const VmmFramebuffer *fb, VmmDecodeResult *result, VmmWriter err) {
    Rre *rre = instance;
    size_t used = 0;
    if (!rre->in_rect) {
        if (data.len < HEADER_LEN) {
            *result = (VmmDecodeResult){VMM_DECODE_NEED_MORE, HEADER_LEN - data.len};
            return VMM_OK;
        }
        rre->remaining = be32(data.ptr);
        fill(fb, rect, 0, 0, rect->width, rect->height, pixel(data.ptr + 4));
        rre->in_rect = 1;
        used = HEADER_LEN;
    }
    while (rre->remaining > 0 && data.len - used >= SUBRECT_LEN) {
        const uint8_t *s = data.ptr + used;
        uint16_t x = be16(s + 4), y = be16(s + 6), w = be16(s + 8), h = be16(s + 10);
        if ((uint32_t)x + w > rect->width || (uint32_t)y + h > rect->height) {
            rre->in_rect = 0;
            say(err, "RRE subrectangle outside its rectangle");
            return VMM_ERROR_INVALID_ARGUMENT;
        }
        fill(fb, rect, x, y, w, h, pixel(s));
        rre->remaining--;
        used += SUBRECT_LEN;
    }
    if (rre->remaining == 0) {
        rre->in_rect = 0;
        *result = (VmmDecodeResult){VMM_DECODE_DONE, used};
    } else if (used > 0) {
        *result = (VmmDecodeResult){VMM_DECODE_PARTIAL, used};
    } else {
        *result = (VmmDecodeResult){VMM_DECODE_NEED_MORE, SUBRECT_LEN - data.len};
    }
    return VMM_OK;
}

static const VmmDecoderVtable decoders = {
    .size = DECODER_TABLE_SIZE,
    .info = info,
    .create = create,
    .destroy = destroy,
    .decode = decode,
};

static const VmmPluginDescriptor descriptor = {
    .size = sizeof(VmmPluginDescriptor),
    .abi_major = VMM_ABI_MAJOR,
    .abi_minor = VMM_ABI_MINOR,
    .name = PLUGIN_NAME,
    .version = "1.0.0",
    .backend = NULL,
    .decoders = &decoders,
};

VMM_PLUGIN_EXPORT const VmmPluginDescriptor *virt_manager_plugin_v1(const VmmHostApi *h) {
    host = h;
    return &descriptor;
}
