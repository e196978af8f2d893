/* rfb-replay: serves one recorded RFB session (benches/data/NAME.rfb.gz) to
 * one client on loopback, for tools/bench-rfb-clients.sh.
 *
 *   rfb-replay RECORDING.rfb[.gz] --encoding N [--empty] [--timeout S]
 *
 * Listens on 127.0.0.1 at a port the kernel picks and prints "PORT n" on
 * stdout. Then, for the one client that connects: RFB 3.8 (3.7 and 3.3
 * also answered) with security type None, a ServerInit announcing the
 * recording's size and its pixel format (32 bpp, depth 24, little-endian
 * true colour, red shift 16, green 8, blue 0), and, from the client's
 * first FramebufferUpdateRequest on, every recorded byte as fast as the
 * socket takes it, then a half-close. Client messages are read all along
 * and checked: a SetPixelFormat other than the recording's, or no
 * SetEncodings offering the recording's encoding before the first
 * request, ends the run with an error (a client that gets bytes it did
 * not ask for would be measured on something else). The run ends when the
 * client closes its side, having read everything.
 *
 * --empty serves no recorded bytes (the client's fixed cost: connection
 * set-up, framebuffer, exit work).
 *
 * Prints one line of JSON on stdout at the end; exits 0 when the client
 * read everything and closed cleanly, 2 when the client misbehaved or
 * closed early, 3 on timeout, 1 on other errors.
 *
 * The recording is loaded (and gunzipped) before listening, so nothing of
 * that is timed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const uint8_t PIXEL_FORMAT[16] = {
    32, 24, 0 /* little-endian */, 1 /* true colour */,
    0, 255, 0, 255, 0, 255, /* maxima, big-endian u16 */
    16, 8, 0,               /* shifts */
    0, 0, 0};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* What the JSON line reports. */
static struct {
    double t_accept, t_first_request, t_sent_all, t_closed;
    size_t sent, total;
    unsigned requests, set_pixel_formats, set_encodings, other_messages;
    int encodings[64];
    int n_encodings;
    char version[16];
    char error[512];
} R;

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s < 0x20)
            fputc(' ', f);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void report_and_exit(int code) {
    double first = R.t_first_request;
    printf("{\"ok\": %s, \"error\": ", code == 0 ? "true" : "false");
    json_str(stdout, R.error);
    printf(", \"version\": ");
    json_str(stdout, R.version);
    printf(", \"bytes\": %zu, \"sent\": %zu", R.total, R.sent);
    printf(", \"setup_ms\": %.3f", first > 0 ? first - R.t_accept : -1.0);
    printf(", \"send_ms\": %.3f", R.t_sent_all > 0 ? R.t_sent_all - first : -1.0);
    printf(", \"drain_ms\": %.3f", R.t_closed > 0 && first > 0 ? R.t_closed - first : -1.0);
    printf(", \"requests\": %u, \"set_pixel_formats\": %u, \"set_encodings\": %u, \"other_messages\": %u",
           R.requests, R.set_pixel_formats, R.set_encodings, R.other_messages);
    printf(", \"encodings\": [");
    for (int i = 0; i < R.n_encodings; i++)
        printf("%s%d", i ? ", " : "", R.encodings[i]);
    printf("]}\n");
    fflush(stdout);
    exit(code);
}

static void fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(R.error, sizeof R.error, fmt, ap);
    va_end(ap);
    fprintf(stderr, "rfb-replay: %s\n", R.error);
    report_and_exit(code);
}

static uint8_t *load(const char *path, size_t *len, unsigned *w, unsigned *h) {
    gzFile gz = gzopen(path, "rb"); /* reads plain files too */
    if (!gz)
        fail(1, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap)
            buf = realloc(buf, cap *= 2);
        int k = gzread(gz, buf + n, (unsigned)(cap - n > (1u << 30) ? (1u << 30) : cap - n));
        if (k < 0)
            fail(1, "cannot read %s", path);
        if (k == 0)
            break;
        n += (size_t)k;
    }
    gzclose(gz);
    if (n < 12 || memcmp(buf, "VMMRFB1\n", 8) != 0)
        fail(1, "%s is not a VMMRFB1 recording", path);
    *w = (unsigned)buf[8] << 8 | buf[9];
    *h = (unsigned)buf[10] << 8 | buf[11];
    *len = n - 12;
    return buf + 12;
}

static int deadline_fd_wait(int fd, short events, double deadline) {
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        double left = deadline - now_ms();
        if (left <= 0)
            fail(3, "timed out");
        int k = poll(&p, 1, (int)left + 1);
        if (k > 0)
            return p.revents;
        if (k < 0 && errno != EINTR)
            fail(1, "poll: %s", strerror(errno));
    }
}

static void read_exact(int fd, void *buf, size_t n, double deadline, const char *what) {
    uint8_t *p = buf;
    while (n) {
        deadline_fd_wait(fd, POLLIN, deadline);
        ssize_t k = recv(fd, p, n, 0);
        if (k == 0)
            fail(2, "client closed during the handshake (%s)", what);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            fail(2, "reading %s: %s", what, strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
}

static void write_all(int fd, const void *buf, size_t n, double deadline) {
    const uint8_t *p = buf;
    while (n) {
        deadline_fd_wait(fd, POLLOUT, deadline);
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            fail(2, "writing the handshake: %s", strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Client messages: buffered bytes, parsed whole. */
static uint8_t cbuf[1 << 16];
static size_t clen;
static int encoding_wanted;

/* Length of the message at the start of cbuf, 0 when incomplete. */
static size_t message_length(void) {
    if (clen < 1)
        return 0;
    switch (cbuf[0]) {
    case 0: return 20;                                  /* SetPixelFormat */
    case 2: return clen < 4 ? 0 : 4 + 4 * (size_t)(cbuf[2] << 8 | cbuf[3]); /* SetEncodings */
    case 3: return 10;                                  /* FramebufferUpdateRequest */
    case 4: return 8;                                   /* KeyEvent */
    case 5: return 6;                                   /* PointerEvent */
    case 6: {                                           /* ClientCutText */
        if (clen < 8)
            return 0;
        int32_t l = (int32_t)be32(cbuf + 4);
        return 8 + (size_t)(l < 0 ? -(int64_t)l : l);
    }
    case 150: return 10;                                /* EnableContinuousUpdates */
    case 248: return clen < 9 ? 0 : 9 + (size_t)cbuf[8]; /* ClientFence */
    case 251: return clen < 8 ? 0 : 8 + 16 * (size_t)cbuf[6]; /* SetDesktopSize */
    case 255:                                           /* QEMU */
        if (clen < 2)
            return 0;
        if (cbuf[1] == 0)
            return 12;
        if (cbuf[1] == 1) {
            if (clen < 4)
                return 0;
            return (cbuf[2] << 8 | cbuf[3]) == 2 ? 10 : 4;
        }
        fail(2, "unknown QEMU client message %u", cbuf[1]);
        return 0;
    default:
        fail(2, "unknown client message type %u", cbuf[0]);
        return 0;
    }
}

static void handle(const uint8_t *m, size_t n) {
    (void)n;
    switch (m[0]) {
    case 0:
        R.set_pixel_formats++;
        if (memcmp(m + 4, PIXEL_FORMAT, 13) != 0)
            fail(2, "client asked for pixel format bpp %u depth %u big-endian %u true-colour %u "
                    "max %u/%u/%u shifts %u/%u/%u; the recording is 32/24 little-endian 0x00RRGGBB "
                    "(shifts 16/8/0): this client cannot be served this recording",
                 m[4], m[5], m[6], m[7], m[8] << 8 | m[9], m[10] << 8 | m[11], m[12] << 8 | m[13],
                 m[14], m[15], m[16]);
        break;
    case 2: {
        R.set_encodings++;
        unsigned count = m[2] << 8 | m[3];
        R.n_encodings = 0;
        for (unsigned i = 0; i < count && i < 64; i++)
            R.encodings[R.n_encodings++] = (int32_t)be32(m + 4 + 4 * i);
        break;
    }
    case 3:
        if (R.requests++ == 0) {
            R.t_first_request = now_ms();
            int offered = encoding_wanted == 0; /* Raw needs no offer */
            for (int i = 0; i < R.n_encodings; i++)
                offered |= R.encodings[i] == encoding_wanted;
            if (!offered)
                fail(2, "the client did not offer encoding %d before its first update request",
                     encoding_wanted);
        }
        break;
    default:
        R.other_messages++;
    }
}

/* Reads what is there; returns 0 at end of stream, 1 otherwise. */
static int read_client(int fd) {
    for (;;) {
        if (clen == sizeof cbuf)
            fail(2, "client message too long");
        ssize_t k = recv(fd, cbuf + clen, sizeof cbuf - clen, MSG_DONTWAIT);
        if (k == 0)
            return 0;
        if (k < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 1;
            if (errno == ECONNRESET)
                return -1;
            fail(2, "reading from the client: %s", strerror(errno));
        }
        clen += (size_t)k;
        size_t l;
        while ((l = message_length()) && l <= clen) {
            handle(cbuf, l);
            memmove(cbuf, cbuf + l, clen - l);
            clen -= l;
        }
    }
}

int main(int argc, char **argv) {
    const char *path = NULL;
    int empty = 0;
    double timeout_s = 300;
    encoding_wanted = -1000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--encoding") && i + 1 < argc)
            encoding_wanted = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--empty"))
            empty = 1;
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
            timeout_s = atof(argv[++i]);
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: rfb-replay RECORDING --encoding N [--empty] [--timeout S]\n");
            return 1;
        }
    }
    if (!path || encoding_wanted == -1000000) {
        fprintf(stderr, "usage: rfb-replay RECORDING --encoding N [--empty] [--timeout S]\n");
        return 1;
    }
    unsigned w, h;
    size_t len;
    const uint8_t *data = load(path, &len, &w, &h);
    if (empty)
        len = 0;
    R.total = len;

    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0)
        fail(1, "cannot listen: %s", strerror(errno));
    printf("PORT %u\n", ntohs(a.sin_port));
    fflush(stdout);

    double deadline = now_ms() + timeout_s * 1e3;
    deadline_fd_wait(ls, POLLIN, deadline);
    int fd = accept(ls, NULL, NULL);
    R.t_accept = now_ms();
    if (fd < 0)
        fail(1, "accept: %s", strerror(errno));
    close(ls);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    /* Handshake. */
    write_all(fd, "RFB 003.008\n", 12, deadline);
    char ver[13] = {0};
    read_exact(fd, ver, 12, deadline, "ProtocolVersion");
    if (memcmp(ver, "RFB 003.", 8) != 0)
        fail(2, "not an RFB client: %.12s", ver);
    int minor = atoi(ver + 8);
    snprintf(R.version, sizeof R.version, "3.%d", minor);
    uint8_t b[64];
    if (minor >= 7) {
        write_all(fd, "\x01\x01", 2, deadline);
        read_exact(fd, b, 1, deadline, "security type");
        if (b[0] != 1)
            fail(2, "client chose security type %u, not None", b[0]);
        if (minor >= 8)
            write_all(fd, "\0\0\0\0", 4, deadline);
    } else {
        write_all(fd, "\0\0\0\x01", 4, deadline);
    }
    read_exact(fd, b, 1, deadline, "ClientInit");
    const char *name = "rfb-replay";
    uint8_t init[24 + 16];
    init[0] = w >> 8, init[1] = w, init[2] = h >> 8, init[3] = h;
    memcpy(init + 4, PIXEL_FORMAT, 16);
    uint32_t nl = (uint32_t)strlen(name);
    init[20] = nl >> 24, init[21] = nl >> 16, init[22] = nl >> 8, init[23] = nl;
    memcpy(init + 24, name, nl);
    write_all(fd, init, 24 + nl, deadline);

    /* Messages until the first update request, then the recording. */
    int reset = 0;
    for (;;) {
        short want = POLLIN;
        if (R.requests && R.sent < len)
            want |= POLLOUT;
        int ev = deadline_fd_wait(fd, want, deadline);
        if (ev & (POLLIN | POLLHUP | POLLERR)) {
            int r = read_client(fd);
            if (r <= 0) {
                R.t_closed = now_ms();
                reset = r < 0;
                break;
            }
        }
        if (R.requests && R.sent < len && (ev & POLLOUT)) {
            ssize_t k = send(fd, data + R.sent, len - R.sent, MSG_NOSIGNAL);
            if (k < 0 && errno != EAGAIN && errno != EINTR) {
                R.t_closed = now_ms();
                reset = 1;
                break;
            }
            if (k > 0)
                R.sent += (size_t)k;
            if (R.sent == len) {
                R.t_sent_all = now_ms();
                shutdown(fd, SHUT_WR);
            }
        }
        if (R.requests && len == 0 && R.t_sent_all == 0) {
            R.t_sent_all = now_ms();
            shutdown(fd, SHUT_WR);
        }
    }
    close(fd);
    if (!R.requests)
        fail(2, "the client closed without asking for an update");
    if (R.sent < len)
        fail(2, "the client closed after %zu of %zu bytes", R.sent, len);
    if (reset)
        fail(2, "the client reset the connection (it closed with bytes unread)");
    report_and_exit(0);
}
