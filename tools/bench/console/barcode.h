/* The frame-number barcode shared by the drawer (which stamps it into the
 * VNC server's screen) and the probe (which reads it off a viewer's
 * screen).
 *
 * One row of BC_BLOCKS square blocks, BC_PX pixels each:
 *   [red] [green] [16 bits of the frame number, MSB first] [4 check bits] [blue]
 * A data block is white for 1 and black for 0; the check bits are the XOR
 * of the four nibbles of the number, so a torn or misread stamp is
 * rejected. Saturated colour markers survive every lossless encoding and
 * are found by the probe without knowing where the viewer put its picture.
 */
#ifndef BENCH_BARCODE_H
#define BENCH_BARCODE_H

#include <stdint.h>
#include <time.h>

#define BC_PX 8
#define BC_DATA 16
#define BC_CHECK 4
#define BC_BLOCKS (2 + BC_DATA + BC_CHECK + 1)
#define BC_WIDTH (BC_BLOCKS * BC_PX)
#define BC_HEIGHT BC_PX

#define BC_RED 0xff0000u
#define BC_GREEN 0x00ff00u
#define BC_BLUE 0x0000ffu
#define BC_WHITE 0xffffffu
#define BC_BLACK 0x000000u

static inline unsigned bc_check(unsigned n)
{
    return ((n >> 12) ^ (n >> 8) ^ (n >> 4) ^ n) & 0xf;
}

/* Colour of block i (0..BC_BLOCKS-1) for frame number n. */
static inline uint32_t bc_block_colour(unsigned n, int i)
{
    if (i == 0) return BC_RED;
    if (i == 1) return BC_GREEN;
    if (i == BC_BLOCKS - 1) return BC_BLUE;
    unsigned word = ((n & 0xffffu) << BC_CHECK) | bc_check(n & 0xffffu);
    int bit = (BC_DATA + BC_CHECK - 1) - (i - 2);
    return (word >> bit) & 1 ? BC_WHITE : BC_BLACK;
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#endif
