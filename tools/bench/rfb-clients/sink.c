/* rfb-sink: an RFB client that decodes nothing, for measuring what the
 * replay server and loopback can deliver on their own.
 *
 *   rfb-sink PORT ENCODING
 *
 * Handshake (3.8, security None), SetPixelFormat (the recording's),
 * SetEncodings (ENCODING and Cursor), one full FramebufferUpdateRequest,
 * then reads and discards until the server closes. Prints the bytes read.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void rd(int fd, void *buf, size_t n) {
    uint8_t *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k <= 0) {
            fprintf(stderr, "rfb-sink: handshake cut short\n");
            exit(1);
        }
        p += k;
        n -= (size_t)k;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: rfb-sink PORT ENCODING\n");
        return 1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("rfb-sink: connect");
        return 1;
    }
    uint8_t b[64];
    rd(fd, b, 12);
    write(fd, "RFB 003.008\n", 12);
    rd(fd, b, 1);
    rd(fd, b + 1, b[0]);
    write(fd, "\x01", 1);
    rd(fd, b, 4);
    write(fd, "\x01", 1);
    rd(fd, b, 24);
    uint32_t nl = (uint32_t)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
    uint8_t w[2] = {b[0], b[1]}, h[2] = {b[2], b[3]};
    while (nl) {
        size_t k = nl > sizeof b ? sizeof b : nl;
        rd(fd, b, k);
        nl -= (uint32_t)k;
    }
    int32_t e = atoi(argv[2]);
    uint8_t m[20 + 12 + 10] = {0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0,
                               2, 0, 0, 2, (uint8_t)(e >> 24), (uint8_t)(e >> 16), (uint8_t)(e >> 8),
                               (uint8_t)e, 0xff, 0xff, 0xff, 0x11, /* -239 */
                               3, 0, 0, 0, 0, 0, w[0], w[1], h[0], h[1]};
    write(fd, m, sizeof m);
    static uint8_t buf[1 << 20];
    size_t total = 0;
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        total += (size_t)k;
    close(fd);
    printf("%zu\n", total);
    return 0;
}
