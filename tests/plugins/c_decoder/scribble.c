/*
 * A bad decoder in C: it fills its rectangle and then writes one pixel
 * right of it and one below it, still inside the framebuffer. Native code
 * can do this; the host's debug builds catch it with canary pixels around
 * the rectangle (src/plugin_host/decoder.rs).
 *
 * Encoding 0x564D4D02 is private to the tests ("VMM" 2): 4 bytes, a pixel.
 */

#include <string.h>

#include "virt_manager_plugin.h"

#define ENCODING_SCRIBBLE 0x564D4D02

static int instance_token;

static void say(VmmWriter w, const char *text) {
    w.write(w.ctx, (const uint8_t *)text, strlen(text));
}

static VmmStatus info(VmmWriter out, VmmWriter err) {
    (void)err;
    say(out, "{\"encodings\":[{\"encoding\":1447906562,\"name\":\"x-scribble\"}]}");
    return VMM_OK;
}

static VmmStatus create(int32_t encoding, const VmmPixelFormat *format, VmmDecoderHandle *instance,
                        VmmWriter err) {
    (void)format;
    if (encoding != ENCODING_SCRIBBLE) {
        say(err, "unknown encoding");
        return VMM_ERROR_NOT_SUPPORTED;
    }
    *instance = &instance_token;
    return VMM_OK;
}

static void destroy(VmmDecoderHandle instance) { (void)instance; }

static void put(const VmmFramebuffer *fb, uint32_t x, uint32_t y, uint32_t value) {
    if (x < fb->width && y < fb->height)
        ((uint32_t *)(fb->pixels + (size_t)y * fb->stride))[x] = value;
}

static VmmStatus decode(VmmDecoderHandle instance, const VmmRect *rect, VmmBytes data,
                        const VmmFramebuffer *fb, VmmDecodeResult *result, VmmWriter err) {
    (void)instance;
    (void)err;
    if (data.len < 4) {
        *result = (VmmDecodeResult){VMM_DECODE_NEED_MORE, 4 - data.len};
        return VMM_OK;
    }
    uint32_t value;
    memcpy(&value, data.ptr, 4);
    for (uint32_t y = rect->y; y < (uint32_t)rect->y + rect->height; y++)
        for (uint32_t x = rect->x; x < (uint32_t)rect->x + rect->width; x++) put(fb, x, y, value);
    put(fb, rect->x + rect->width, rect->y, value);  /* right of the rectangle */
    put(fb, rect->x, rect->y + rect->height, value); /* below it */
    *result = (VmmDecodeResult){VMM_DECODE_DONE, 4};
    return VMM_OK;
}

static const VmmDecoderVtable decoders = {sizeof(VmmDecoderVtable), info, create, destroy, decode};

static const VmmPluginDescriptor descriptor = {
    sizeof(VmmPluginDescriptor), VMM_ABI_MAJOR, VMM_ABI_MINOR, "c-scribble", "1.0.0", NULL, &decoders,
};

VMM_PLUGIN_EXPORT const VmmPluginDescriptor *virt_manager_plugin_v1(const VmmHostApi *h) {
    (void)h;
    return &descriptor;
}
