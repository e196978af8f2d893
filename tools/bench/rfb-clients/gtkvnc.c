/* rfb-gtkvnc: the smallest gtk-vnc (libgvnc) viewer that decodes a whole
 * session, for tools/bench-rfb-clients.sh. No window: a VncConnection
 * drawing into a VncBaseFramebuffer over memory of our own, on a GLib
 * main loop (gtk-vnc's own coroutine does the protocol, as in a viewer).
 *
 *   rfb-gtkvnc PORT ENCODING [--quality N] [--dump OUT.ppm]
 *
 * ENCODING is the encoding number. The framebuffer and the pixel format
 * asked of the server are 32 bpp, depth 24, little-endian 0x00RRGGBB
 * (red shift 16, green 8, blue 0), the recordings' format, so gtk-vnc
 * copies pixels without converting them. Offers ENCODING, the JPEG
 * quality level with --quality, and RichCursor, LastRect and
 * DesktopSize. Decodes until the server closes (gtk-vnc then closes its
 * socket, where the server stops its clock), writes the framebuffer as a
 * binary PPM when asked, and exits 0 when the connection ended without a
 * decoding error, 2 otherwise.
 */
#include <gvnc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static GMainLoop *loop;
static guint8 *pixels;
static int width, height;
static int encoding, quality = -1;
static gboolean initialized;
static GString *errors;
static guint64 rects;

static const VncPixelFormat FORMAT = {
    .bits_per_pixel = 32,
    .depth = 24,
    .byte_order = G_LITTLE_ENDIAN,
    .true_color_flag = 1,
    .red_max = 255,
    .green_max = 255,
    .blue_max = 255,
    .red_shift = 16,
    .green_shift = 8,
    .blue_shift = 0,
};

static void on_choose_type(VncConnection *conn, GValueArray *types, gpointer data) {
    (void)types, (void)data;
    vnc_connection_set_auth_type(conn, VNC_CONNECTION_AUTH_NONE);
}

static void on_initialized(VncConnection *conn, gpointer data) {
    (void)data;
    width = vnc_connection_get_width(conn);
    height = vnc_connection_get_height(conn);
    pixels = g_malloc0((gsize)width * height * 4);
    VncBaseFramebuffer *fb = vnc_base_framebuffer_new(pixels, width, height, width * 4, &FORMAT, &FORMAT);
    vnc_connection_set_framebuffer(conn, VNC_FRAMEBUFFER(fb));
    g_object_unref(fb);
    vnc_connection_set_pixel_format(conn, &FORMAT);
    gint32 list[8];
    int n = 0;
    list[n++] = encoding;
    if (quality >= 0)
        list[n++] = VNC_CONNECTION_ENCODING_TIGHT_JPEG0 + quality;
    list[n++] = VNC_CONNECTION_ENCODING_RICH_CURSOR;
    list[n++] = VNC_CONNECTION_ENCODING_LAST_RECT;
    list[n++] = VNC_CONNECTION_ENCODING_DESKTOP_RESIZE;
    vnc_connection_set_encodings(conn, n, list);
    vnc_connection_framebuffer_update_request(conn, FALSE, 0, 0, width, height);
    initialized = TRUE;
}

static void on_update(VncConnection *conn, guint16 x, guint16 y, guint16 w, guint16 h, gpointer data) {
    (void)conn, (void)x, (void)y, (void)w, (void)h, (void)data;
    rects++;
}

static void on_error(VncConnection *conn, const char *message, gpointer data) {
    (void)conn, (void)data;
    /* How gtk-vnc reports the end of stream, also when all went well. */
    if (strcmp(message, "Server closed the connection") == 0)
        return;
    g_string_append_printf(errors, "%s; ", message);
}

static void on_disconnected(VncConnection *conn, gpointer data) {
    (void)conn, (void)data;
    g_main_loop_quit(loop);
}

static int dump(const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fprintf(f, "P6\n%d %d\n255\n", width, height);
    unsigned char *row = malloc((size_t)width * 3);
    for (int y = 0; y < height; y++) {
        const guint32 *px = (const guint32 *)(pixels + (size_t)y * width * 4);
        for (int x = 0; x < width; x++) {
            guint32 p = px[x];
            row[3 * x] = p >> 16, row[3 * x + 1] = p >> 8, row[3 * x + 2] = p;
        }
        fwrite(row, 3, (size_t)width, f);
    }
    free(row);
    return fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rfb-gtkvnc PORT ENCODING [--quality N] [--dump OUT.ppm]\n");
        return 1;
    }
    encoding = atoi(argv[2]);
    const char *out = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--quality") && i + 1 < argc)
            quality = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            out = argv[++i];
    }
    errors = g_string_new(NULL);
    loop = g_main_loop_new(NULL, FALSE);
    VncConnection *conn = vnc_connection_new();
    g_signal_connect(conn, "vnc-auth-choose-type", G_CALLBACK(on_choose_type), NULL);
    g_signal_connect(conn, "vnc-initialized", G_CALLBACK(on_initialized), NULL);
    g_signal_connect(conn, "vnc-framebuffer-update", G_CALLBACK(on_update), NULL);
    g_signal_connect(conn, "vnc-error", G_CALLBACK(on_error), NULL);
    g_signal_connect(conn, "vnc-disconnected", G_CALLBACK(on_disconnected), NULL);
    if (!vnc_connection_open_host(conn, "127.0.0.1", argv[1])) {
        fprintf(stderr, "rfb-gtkvnc: cannot open the connection\n");
        return 2;
    }
    g_main_loop_run(loop);
    int ok = initialized && errors->len == 0;
    if (!ok)
        fprintf(stderr, "rfb-gtkvnc: %s%s\n", initialized ? "" : "never initialized; ", errors->str);
    if (getenv("RFB_GTKVNC_VERBOSE"))
        fprintf(stderr, "rfb-gtkvnc: %" G_GUINT64_FORMAT " rectangle updates\n", rects);
    if (out && pixels && dump(out) != 0) {
        perror(out);
        return 1;
    }
    return ok ? 0 : 2;
}
