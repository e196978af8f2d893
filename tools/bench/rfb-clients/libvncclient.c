/* rfb-libvncclient: the smallest libvncclient viewer that decodes a whole
 * session, for tools/bench-rfb-clients.sh.
 *
 *   rfb-libvncclient PORT ENCODING [--quality N] [--dump OUT.ppm]
 *
 * ENCODING is libvncclient's name for it (raw copyrect rre hextile zlib
 * tight zrle ...). The framebuffer is 32 bpp, depth 24, little-endian
 * 0x00RRGGBB (red shift 16, green 8, blue 0): the format of the
 * recordings. Offers ENCODING (a space-separated list), the cursor shape
 * pseudo-encodings (useRemoteCursor) and what libvncclient always adds
 * (DesktopSize, ExtendedDesktopSize, ...); JPEG (a quality level) only
 * with --quality, no compression level. Decodes until the server closes,
 * then closes its socket at once (the server stops its clock there),
 * writes the framebuffer as a binary PPM when asked, and exits 0 when
 * the session ended because the server closed it, 2 on any other error.
 */
#include <rfb/rfbclient.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char last_message[512];
static int verbose;

static void log_quiet(const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    vsnprintf(last_message, sizeof last_message, format, ap);
    va_end(ap);
    if (verbose)
        fputs(last_message, stderr);
}

static void log_err(const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    vsnprintf(last_message, sizeof last_message, format, ap);
    va_end(ap);
    fputs(last_message, stderr);
}

static int dump(rfbClient *cl, const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fprintf(f, "P6\n%d %d\n255\n", cl->width, cl->height);
    const uint32_t *px = (const uint32_t *)cl->frameBuffer;
    unsigned char *row = malloc((size_t)cl->width * 3);
    for (int y = 0; y < cl->height; y++) {
        for (int x = 0; x < cl->width; x++) {
            uint32_t p = px[(size_t)y * cl->width + x];
            row[3 * x] = p >> 16, row[3 * x + 1] = p >> 8, row[3 * x + 2] = p;
        }
        fwrite(row, 3, (size_t)cl->width, f);
    }
    free(row);
    return fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rfb-libvncclient PORT ENCODING [--quality N] [--dump OUT.ppm]\n");
        return 1;
    }
    int quality = -1;
    const char *out = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--quality") && i + 1 < argc)
            quality = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--verbose"))
            verbose = 1;
    }
    rfbClientLog = log_quiet;
    rfbClientErr = log_err;

    rfbClient *cl = rfbGetClient(8, 3, 4);
    cl->format.bitsPerPixel = 32;
    cl->format.depth = 24;
    cl->format.bigEndian = 0;
    cl->format.trueColour = 1;
    cl->format.redMax = cl->format.greenMax = cl->format.blueMax = 255;
    cl->format.redShift = 16;
    cl->format.greenShift = 8;
    cl->format.blueShift = 0;
    cl->appData.encodingsString = argv[2];
    cl->appData.enableJPEG = quality >= 0;
    cl->appData.qualityLevel = quality >= 0 ? quality : 0;
    cl->appData.compressLevel = -1; /* none requested, as the other clients */
    cl->appData.useRemoteCursor = TRUE; /* offers the cursor shapes the recordings hold */
    cl->serverHost = strdup("127.0.0.1");
    cl->serverPort = atoi(argv[1]);
    cl->canHandleNewFBSize = TRUE;

    int one = 1;
    char *fake_argv[] = {argv[0], NULL};
    if (!rfbInitClient(cl, &one, fake_argv)) {
        /* rfbInitClient frees the client on failure. */
        fprintf(stderr, "rfb-libvncclient: cannot connect: %s", last_message);
        return 2;
    }
    for (;;) {
        int n = WaitForMessage(cl, 1000000);
        if (n < 0)
            break;
        if (n > 0 && !HandleRFBServerMessage(cl))
            break;
    }
    /* The server measures until this close. */
    close(cl->sock);
    cl->sock = RFB_INVALID_SOCKET;
    /* libvncclient says the same on a clean end of stream and on errors;
     * only the former logs this. */
    int clean = strstr(last_message, "closed connection") != NULL;
    if (!clean)
        fprintf(stderr, "rfb-libvncclient: stopped: %s", last_message);
    if (out && dump(cl, out) != 0) {
        perror(out);
        return 1;
    }
    return clean ? 0 : 2;
}
