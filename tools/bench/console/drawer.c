/* The benchmark's source of frames: an X client inside the VNC server's
 * display (TigerVNC Xvnc) that draws a scene at a fixed frame rate and
 * stamps each frame's number as a barcode (barcode.h), and records when
 * every frame was drawn and when key presses arrived.
 *
 *   drawer --scene full|square|idle --duration S [--fps 60] [--start N]
 *          [--frames FILE] [--keys FILE]
 *
 * full:   the whole screen changes every frame (horizontal bands, 16 px
 *         high, each a new colour every frame), barcode at (8, 8).
 * square: a static background; only a 200x200 square at (96, 96)
 *         changes (new colour every frame), barcode inside it at (104, 104).
 * idle:   the static background, nothing changes; records key presses
 *         (the input-latency phase).
 *
 * FILE lines, times in seconds on CLOCK_MONOTONIC (the probe's clock):
 *   frames: "frame <n> <t_begin> <t_drawn>" (t_drawn: after XSync, the
 *           server has the pixels)
 *   keys:   "key <keysym> <t_received> <x_server_time_ms>"
 */
#define _GNU_SOURCE
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/keysym.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "barcode.h"

#define SQ_X 96
#define SQ_Y 96
#define SQ_SIZE 200
#define BAND 16

static Display *dpy;
static Window win;
static GC gc;
static int W, H;
static FILE *keys_out;

static void fill(uint32_t colour, int x, int y, int w, int h)
{
    XSetForeground(dpy, gc, colour);
    XFillRectangle(dpy, win, gc, x, y, w, h);
}

static void barcode(unsigned n, int x, int y)
{
    for (int i = 0; i < BC_BLOCKS; i++)
        fill(bc_block_colour(n, i), x + i * BC_PX, y, BC_PX, BC_PX);
}

static uint32_t band_colour(unsigned n, unsigned b)
{
    unsigned r = (n * 5 + b * 11) & 255, g = (n * 3 + b * 7) & 255, bl = (n + b * 5) & 255;
    return (r << 16) | (g << 8) | bl;
}

static void background(void)
{
    fill(0x303030, 0, 0, W, H);
    /* Something static to look at, drawn once. */
    for (int y = 0; y < H; y += 64)
        for (int x = (y / 64) % 2 * 64; x < W; x += 128)
            fill(0x505860, x, y, 64, 64);
}

static void handle_events(void)
{
    while (XPending(dpy)) {
        XEvent ev;
        XNextEvent(dpy, &ev);
        if (ev.type == KeyPress) {
            double t = now_s();
            KeySym sym = XLookupKeysym(&ev.xkey, 0);
            if (keys_out) {
                fprintf(keys_out, "key %lu %.6f %lu\n", (unsigned long)sym, t, (unsigned long)ev.xkey.time);
                fflush(keys_out);
            }
        }
    }
}

/* Waits until `deadline`, handling X events (key presses) as they come. */
static void wait_until(double deadline)
{
    int fd = ConnectionNumber(dpy);
    for (;;) {
        handle_events();
        double left = deadline - now_s();
        if (left <= 0)
            return;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ms = (int)(left * 1000);
        if (ms > 0) {
            poll(&p, 1, ms > 1 ? ms - 1 : ms);
        } else {
            struct timespec ts = { 0, (long)(left * 1e9) };
            clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
        }
    }
}

int main(int argc, char **argv)
{
    const char *scene = "full", *frames_path = NULL, *keys_path = NULL;
    double duration = 10, fps = 60;
    unsigned start = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "drawer: %s needs a value\n", a); return 2; }
        if (!strcmp(a, "--scene")) scene = v;
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--fps")) fps = atof(v);
        else if (!strcmp(a, "--start")) start = (unsigned)atoi(v);
        else if (!strcmp(a, "--frames")) frames_path = v;
        else if (!strcmp(a, "--keys")) keys_path = v;
        else { fprintf(stderr, "drawer: unknown option %s\n", a); return 2; }
        i++;
    }
    int mode = !strcmp(scene, "full") ? 0 : !strcmp(scene, "square") ? 1 : !strcmp(scene, "idle") ? 2 : -1;
    if (mode < 0) { fprintf(stderr, "drawer: unknown scene %s\n", scene); return 2; }

    dpy = XOpenDisplay(NULL);
    if (!dpy) { fprintf(stderr, "drawer: cannot open display\n"); return 1; }
    int scr = DefaultScreen(dpy);
    Visual *vis = DefaultVisual(dpy, scr);
    if (vis->class != TrueColor || vis->red_mask != 0xff0000 || vis->green_mask != 0xff00 || vis->blue_mask != 0xff) {
        fprintf(stderr, "drawer: needs a 24-bit TrueColor 0xRRGGBB visual (Xvnc -depth 24)\n");
        return 1;
    }
    W = DisplayWidth(dpy, scr);
    H = DisplayHeight(dpy, scr);
    XSetWindowAttributes attrs = { .override_redirect = True, .background_pixel = 0 };
    win = XCreateWindow(dpy, RootWindow(dpy, scr), 0, 0, W, H, 0, CopyFromParent, InputOutput, CopyFromParent,
                        CWOverrideRedirect | CWBackPixel, &attrs);
    XSelectInput(dpy, win, KeyPressMask | ExposureMask);
    XMapRaised(dpy, win);
    gc = XCreateGC(dpy, win, 0, NULL);
    XSync(dpy, False);
    XSetInputFocus(dpy, win, RevertToPointerRoot, CurrentTime);

    FILE *frames_out = frames_path ? fopen(frames_path, "w") : NULL;
    keys_out = keys_path ? fopen(keys_path, "w") : NULL;
    if ((frames_path && !frames_out) || (keys_path && !keys_out)) { perror("drawer: output"); return 1; }

    background();
    XSync(dpy, False);

    double t0 = now_s() + 0.05, end = t0 + duration;
    unsigned n = start;
    for (long k = 0;; k++) {
        double deadline = t0 + k / fps;
        if (deadline >= end)
            break;
        wait_until(deadline);
        if (mode == 2)
            continue;
        double tb = now_s();
        if (mode == 0) {
            for (int b = 0; b * BAND < H; b++)
                fill(band_colour(n, b), 0, b * BAND, W, BAND);
            barcode(n, 8, 8);
        } else {
            fill(band_colour(n, 3), SQ_X, SQ_Y, SQ_SIZE, SQ_SIZE);
            barcode(n, SQ_X + 8, SQ_Y + 8);
        }
        XSync(dpy, False);
        double td = now_s();
        if (frames_out)
            fprintf(frames_out, "frame %u %.6f %.6f\n", n, tb, td);
        n = (n + 1) & 0xffff;
    }
    wait_until(end);
    if (frames_out) fclose(frames_out);
    if (keys_out) fclose(keys_out);
    XCloseDisplay(dpy);
    return 0;
}
