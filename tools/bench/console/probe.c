/* The benchmark's eye: reads the frame-number barcode (barcode.h) off a
 * viewer's own screen (the Xvfb the viewer runs in) every few
 * milliseconds, and optionally types keys into the viewer (XTest) for the
 * input-latency phase.
 *
 *   probe --out FILE --duration S [--interval-ms 2] [--find-timeout S]
 *   probe --type N --out FILE [--key-interval-ms 150] [--find-timeout S]
 *
 * It first finds the barcode anywhere on the screen (a full-screen
 * XGetImage, looking for the red and green start blocks and a valid check
 * nibble), then reads only the barcode's rectangle with XShmGetImage.
 *
 * FILE lines, times in seconds on CLOCK_MONOTONIC (the drawer's clock):
 *   "found <x> <y> <t>"                 where the barcode is
 *   "seen <frame> <t>"                  a new valid frame number appeared
 *   "bad <t>"                           an unreadable stamp (first of a run)
 *   "stats <samples> <bad> <max_gap_ms>" sampling summary (max_gap: the
 *                                       longest time between two samples,
 *                                       i.e. how well the probe kept up)
 *   "sent <keysym> <t>"                 (--type) a key press was injected
 *
 * Typing: the pointer is moved over the viewer's picture and the window
 * under it gets the keyboard focus (no window manager gives it).
 */
#define _GNU_SOURCE
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "barcode.h"

static Display *dpy;
static Window root;
static int W, H;

static void sleep_s(double s)
{
    if (s <= 0) return;
    struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}

static int near(uint32_t p, uint32_t want)
{
    for (int sh = 0; sh <= 16; sh += 8) {
        int a = (p >> sh) & 255, b = (want >> sh) & 255;
        if (abs(a - b) > 60) return 0;
    }
    return 1;
}

/* Decodes the barcode whose top-left pixel is (x, y) in `img`; returns
 * the frame number, or -1. */
static long decode(XImage *img, int x, int y)
{
    int cy = y + BC_PX / 2;
#define PX(i) ((uint32_t)XGetPixel(img, x + (i) * BC_PX + BC_PX / 2, cy) & 0xffffff)
    if (!near(PX(0), BC_RED) || !near(PX(1), BC_GREEN) || !near(PX(BC_BLOCKS - 1), BC_BLUE))
        return -1;
    unsigned word = 0;
    for (int i = 2; i < BC_BLOCKS - 1; i++) {
        uint32_t p = PX(i);
        int luma = (((p >> 16) & 255) * 3 + ((p >> 8) & 255) * 6 + (p & 255)) / 10;
        word = (word << 1) | (luma > 128);
    }
#undef PX
    unsigned n = word >> BC_CHECK;
    if ((word & 0xf) != bc_check(n))
        return -1;
    return n;
}

/* Searches the whole screen for the barcode. */
static int find(int *bx, int *by)
{
    XImage *img = XGetImage(dpy, root, 0, 0, W, H, AllPlanes, ZPixmap);
    if (!img) return 0;
    int ok = 0;
    for (int y = 1; y + BC_HEIGHT <= H && !ok; y++) {
        for (int x = 1; x + BC_WIDTH <= W; x++) {
            uint32_t p = XGetPixel(img, x, y) & 0xffffff;
            if (!near(p, BC_RED)) continue;
            if (near(XGetPixel(img, x - 1, y) & 0xffffff, BC_RED) || near(XGetPixel(img, x, y - 1) & 0xffffff, BC_RED))
                continue;
            if (decode(img, x, y) >= 0) {
                *bx = x;
                *by = y;
                ok = 1;
                break;
            }
        }
    }
    XDestroyImage(img);
    return ok;
}

int main(int argc, char **argv)
{
    const char *out_path = NULL;
    double duration = 10, interval = 0.002, find_timeout = 30, key_interval = 0.15;
    int type_keys = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "probe: %s needs a value\n", a); return 2; }
        if (!strcmp(a, "--out")) out_path = v;
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--interval-ms")) interval = atof(v) / 1000;
        else if (!strcmp(a, "--find-timeout")) find_timeout = atof(v);
        else if (!strcmp(a, "--type")) type_keys = atoi(v);
        else if (!strcmp(a, "--key-interval-ms")) key_interval = atof(v) / 1000;
        else { fprintf(stderr, "probe: unknown option %s\n", a); return 2; }
        i++;
    }
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    if (!out) { perror("probe: output"); return 1; }

    dpy = XOpenDisplay(NULL);
    if (!dpy) { fprintf(stderr, "probe: cannot open display\n"); return 1; }
    int scr = DefaultScreen(dpy);
    root = RootWindow(dpy, scr);
    W = DisplayWidth(dpy, scr);
    H = DisplayHeight(dpy, scr);

    int bx = 0, by = 0;
    double give_up = now_s() + find_timeout;
    while (!find(&bx, &by)) {
        if (now_s() > give_up) {
            fprintf(stderr, "probe: no barcode on the screen after %.0f s\n", find_timeout);
            fprintf(out, "notfound %.6f\n", now_s());
            return 3;
        }
        sleep_s(0.05);
    }
    fprintf(out, "found %d %d %.6f\n", bx, by, now_s());
    fflush(out);

    if (type_keys > 0) {
        int ev, err, maj, min;
        if (!XTestQueryExtension(dpy, &ev, &err, &maj, &min)) {
            fprintf(stderr, "probe: no XTest\n");
            return 1;
        }
        /* The pointer over the viewer's picture, keyboard focus where the
         * pointer is (there is no window manager to give it). */
        XTestFakeMotionEvent(dpy, scr, bx + 300, by + 150, CurrentTime);
        XSync(dpy, False);
        sleep_s(0.1);
        Window r_root, child = None;
        int rx, ry, wx, wy;
        unsigned mask;
        XQueryPointer(dpy, root, &r_root, &child, &rx, &ry, &wx, &wy, &mask);
        if (child != None)
            XSetInputFocus(dpy, child, RevertToPointerRoot, CurrentTime);
        else
            XSetInputFocus(dpy, PointerRoot, RevertToPointerRoot, CurrentTime);
        XSync(dpy, False);
        sleep_s(0.5);
        for (int i = 0; i < type_keys; i++) {
            KeySym sym = XK_a + i % 26;
            KeyCode code = XKeysymToKeycode(dpy, sym);
            double t = now_s();
            XTestFakeKeyEvent(dpy, code, True, CurrentTime);
            XFlush(dpy);
            fprintf(out, "sent %lu %.6f\n", (unsigned long)sym, t);
            sleep_s(0.03);
            XTestFakeKeyEvent(dpy, code, False, CurrentTime);
            XFlush(dpy);
            sleep_s(key_interval - 0.03);
        }
        XSync(dpy, False);
        fclose(out);
        return 0;
    }

    XShmSegmentInfo shm;
    XImage *img = XShmCreateImage(dpy, DefaultVisual(dpy, scr), DefaultDepth(dpy, scr), ZPixmap, NULL, &shm,
                                  BC_WIDTH, BC_HEIGHT);
    if (!img) { fprintf(stderr, "probe: no MIT-SHM\n"); return 1; }
    shm.shmid = shmget(IPC_PRIVATE, img->bytes_per_line * img->height, IPC_CREAT | 0600);
    shm.shmaddr = img->data = shmat(shm.shmid, NULL, 0);
    shm.readOnly = False;
    XShmAttach(dpy, &shm);
    XSync(dpy, False);
    shmctl(shm.shmid, IPC_RMID, NULL);

    long last = -2;
    int last_bad = 0;
    unsigned long samples = 0, bad = 0;
    double max_gap = 0, prev = now_s(), end = prev + duration;
    for (double next = prev;; next += interval) {
        double t = now_s();
        if (t >= end) break;
        if (next > t) {
            sleep_s(next - t);
        } else if (t - next > 0.05) {
            next = t; /* fell far behind: don't burst */
        }
        if (!XShmGetImage(dpy, root, img, bx, by, AllPlanes)) break;
        t = now_s();
        if (t - prev > max_gap) max_gap = t - prev;
        prev = t;
        samples++;
        long n = decode(img, 0, 0);
        if (n < 0) {
            bad++;
            if (!last_bad) fprintf(out, "bad %.6f\n", t);
            last_bad = 1;
            continue;
        }
        last_bad = 0;
        if (n != last) {
            fprintf(out, "seen %ld %.6f\n", n, t);
            last = n;
        }
    }
    fprintf(out, "stats %lu %lu %.3f\n", samples, bad, max_gap * 1000);
    XShmDetach(dpy, &shm);
    shmdt(shm.shmaddr);
    fclose(out);
    XCloseDisplay(dpy);
    return 0;
}
