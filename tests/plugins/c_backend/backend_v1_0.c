/*
 * A backend written in C for plugin ABI 1.0, as a plugin built against
 * the 1.0 header looks: its descriptor ends after `backend` (no
 * `decoders`) and its backend table holds the five 1.0 calls only. The
 * host must load it, list its guests, deliver its events, and answer
 * "not supported" for every 1.1 call without reading past the table.
 *
 * The structs below are the 1.0 layouts; the common types come from the
 * current header, which never changes them.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "virt_manager_plugin.h"

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "c-legacy"
#endif
#ifndef PLUGIN_SCHEME
#define PLUGIN_SCHEME "c-legacy"
#endif
/* Tests build broken variants whose sizes claim less than ABI 1.0. */
#ifndef DESCRIPTOR_SIZE
#define DESCRIPTOR_SIZE sizeof(Descriptor10)
#endif
#ifndef BACKEND_TABLE_SIZE
#define BACKEND_TABLE_SIZE sizeof(BackendVtable10)
#endif

/* The 1.0 backend table: size and five calls, nothing after. */
typedef struct {
    size_t size;
    VmmStatus (*info)(VmmWriter out, VmmWriter err);
    VmmStatus (*open)(VmmBytes uri, VmmConnectionHandle *conn, VmmWriter err);
    void (*close)(VmmConnectionHandle conn);
    VmmStatus (*list_domains)(VmmConnectionHandle conn, VmmWriter out, VmmWriter err);
    VmmStatus (*subscribe)(VmmConnectionHandle conn, VmmEventSink sink, VmmWriter err);
} BackendVtable10;

/* The 1.0 descriptor: no `decoders`. */
typedef struct {
    size_t size;
    uint32_t abi_major;
    uint32_t abi_minor;
    const char *name;
    const char *version;
    const BackendVtable10 *backend;
} Descriptor10;

typedef struct {
    pthread_mutex_t lock;
    int has_sink;
    VmmEventSink sink;
} Connection;

#define GUEST_ONE                                                                          \
    "{\"uuid\":\"0b4e2c1a-5f3d-4c6e-9a7b-1d2e3f405162\",\"name\":\"c-guest-one\","       \
    "\"state\":\"running\",\"vcpus\":1,\"memory_kib\":65536}"
#define GUEST_TWO                                                                          \
    "{\"uuid\":\"0b4e2c1a-5f3d-4c6e-9a7b-1d2e3f405163\",\"name\":\"c-guest-two\","       \
    "\"state\":\"shutoff\",\"vcpus\":2,\"memory_kib\":131072}"

static void say(VmmWriter w, const char *text) {
    w.write(w.ctx, (const uint8_t *)text, strlen(text));
}

static VmmStatus info(VmmWriter out, VmmWriter err) {
    (void)err;
    /* A 1.0 plugin knows nothing of capabilities or presets. */
    say(out, "{\"uri_schemes\":[\"" PLUGIN_SCHEME "\"],\"description\":\"C backend, ABI 1.0\"}");
    return VMM_OK;
}

static VmmStatus open_connection(VmmBytes uri, VmmConnectionHandle *conn, VmmWriter err) {
    const char *scheme = PLUGIN_SCHEME ":";
    if (uri.len < strlen(scheme) || memcmp(uri.ptr, scheme, strlen(scheme)) != 0) {
        say(err, "not a " PLUGIN_SCHEME " URI");
        return VMM_ERROR_INVALID_ARGUMENT;
    }
    Connection *c = calloc(1, sizeof *c);
    if (!c) {
        say(err, "out of memory");
        return VMM_ERROR_FAILED;
    }
    pthread_mutex_init(&c->lock, NULL);
    *conn = c;
    return VMM_OK;
}

static void release_sink(Connection *c) {
    if (c->has_sink) {
        c->sink.release(c->sink.ctx);
        c->has_sink = 0;
    }
}

static void close_connection(VmmConnectionHandle conn) {
    Connection *c = conn;
    pthread_mutex_lock(&c->lock);
    release_sink(c);
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static VmmStatus list_domains(VmmConnectionHandle conn, VmmWriter out, VmmWriter err) {
    (void)conn;
    (void)err;
    say(out, "[" GUEST_ONE "," GUEST_TWO "]");
    return VMM_OK;
}

static VmmStatus subscribe(VmmConnectionHandle conn, VmmEventSink sink, VmmWriter err) {
    (void)err;
    Connection *c = conn;
    pthread_mutex_lock(&c->lock);
    release_sink(c);
    c->sink = sink;
    c->has_sink = 1;
    /* One event right away, so that the host can see events arrive. */
    const char *event = "{\"type\":\"domain_changed\",\"domain\":" GUEST_TWO "}";
    VmmBytes bytes = {(const uint8_t *)event, strlen(event)};
    sink.emit(sink.ctx, bytes);
    pthread_mutex_unlock(&c->lock);
    return VMM_OK;
}

static const BackendVtable10 backend = {
    BACKEND_TABLE_SIZE, info, open_connection, close_connection, list_domains, subscribe,
};

static const Descriptor10 descriptor = {
    DESCRIPTOR_SIZE, 1, 0, PLUGIN_NAME, "1.0.0", &backend,
};

VMM_PLUGIN_EXPORT const VmmPluginDescriptor *virt_manager_plugin_v1(const VmmHostApi *h) {
    (void)h;
    /* The host reads only `size` bytes of it. */
    return (const VmmPluginDescriptor *)(const void *)&descriptor;
}
