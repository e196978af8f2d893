/*
 * virt_manager_plugin.h: the C ABI of Virtual Machine Manager plugins,
 * version 1.1.
 *
 * This header mirrors plugins/api/src/abi.rs field for field; a test
 * (plugins/api/tests/c_header.rs) compiles it against the Rust definitions
 * and fails on any difference in a size, an offset, a type or a constant.
 * docs/plugins.md is the guide; this is the reference.
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 *
 * The rules that keep the ABI stable across releases:
 *
 * - A library exports exactly one symbol, virt_manager_plugin_v1 (the "1"
 *   is the ABI major version), of type VmmEntryFn. The host calls it once,
 *   right after loading, on its plugin-scan thread, and keeps the returned
 *   descriptor for the life of the process. Plugins are never unloaded:
 *   every pointer a plugin hands out (descriptor, vtables, strings) must
 *   stay valid until the process exits.
 * - The descriptor carries abi_major and abi_minor. The host refuses any
 *   other major version. A minor version only ever appends fields.
 * - The descriptor, the host table and every vtable begin with their own
 *   size in bytes (`size`) and only grow at their end. A reader treats a
 *   field that does not fit in the size it was given as absent: the host
 *   reports "not supported" for a call past the end of an older plugin's
 *   table, and a plugin must not read past the end of an older host's
 *   table. Set `size` to sizeof() of the struct you were compiled with.
 *   Use VMM_HAS_FIELD() to test for a field.
 * - No function pointer in a vtable may be NULL: implement a call you do
 *   not support by returning VMM_ERROR_NOT_SUPPORTED.
 * - Control-plane data (guest lists, events, statistics, configuration)
 *   crosses as UTF-8 JSON whose schemas are the serde types of
 *   plugins/api/src/types.rs. Unknown fields are ignored on both sides.
 * - Memory is never allocated by one side and freed by the other. Input
 *   (VmmBytes) is borrowed for the duration of the call only: copy what you
 *   keep. Output goes through a VmmWriter owned by the caller: call its
 *   `write` zero or more times during the call (the bytes are appended);
 *   it is invalid after the call returns.
 * - Every fallible call returns VMM_OK (0) or a VMM_ERROR_* code and then
 *   writes a message for the user to its `err` writer. Unknown codes read
 *   as VMM_ERROR_FAILED.
 * - Never let an exception, a longjmp or a Rust panic cross a call: catch
 *   it and return an error (VMM_ERROR_PANICKED for a panic).
 */

#ifndef VIRT_MANAGER_PLUGIN_H
#define VIRT_MANAGER_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Versions, the entry symbol and status codes
 * ------------------------------------------------------------------- */

/* ABI major version: bumped only for incompatible changes. */
#define VMM_ABI_MAJOR 1u
/* ABI minor version: bumped when fields are appended.
 *   1.0: descriptor with a backend; backend: info, open, close,
 *        list_domains, subscribe.
 *   1.1: descriptor gains `decoders`; backend gains statistics,
 *        lifecycle, configuration, host information, networks, storage
 *        pools, consoles, keys and screenshots. */
#define VMM_ABI_MINOR 1u

/* The one symbol every plugin library exports. */
#define VMM_ENTRY_SYMBOL "virt_manager_plugin_v1"

/* Return value of every fallible call: VMM_OK or a VMM_ERROR_* code. */
typedef int VmmStatus;

#define VMM_OK 0
/* The operation failed; the message says why. */
#define VMM_ERROR_FAILED 1
/* The plugin does not offer this operation. */
#define VMM_ERROR_NOT_SUPPORTED 2
/* An argument was malformed. */
#define VMM_ERROR_INVALID_ARGUMENT 3
/* The named guest, connection or object does not exist. */
#define VMM_ERROR_NOT_FOUND 4
/* Authentication failed or was refused. */
#define VMM_ERROR_AUTH_FAILED 5
/* The plugin caught a panic (or exception); the message holds it. */
#define VMM_ERROR_PANICKED 6
/* The connection is closed or broken. */
#define VMM_ERROR_DISCONNECTED 7

/* Makes the entry point visible even with -fvisibility=hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define VMM_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define VMM_PLUGIN_EXPORT
#endif

/* True when a struct of type `type` that reports `size` bytes contains
 * `field` (the check for appended fields). */
#define VMM_HAS_FIELD(size, type, field) \
    ((size_t)(size) >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ---------------------------------------------------------------------
 * Common types
 * ------------------------------------------------------------------- */

/* Borrowed bytes, valid only during the call they are passed to. Not
 * NUL-terminated. `ptr` may be NULL when `len` is 0. */
typedef struct VmmBytes {
    const uint8_t *ptr;
    size_t len;
} VmmBytes;

/* An output channel owned by the caller. Call `write(ctx, ptr, len)` zero
 * or more times during the call; the bytes are appended. Never keep it. */
typedef struct VmmWriter {
    void *ctx;
    void (*write)(void *ctx, const uint8_t *ptr, size_t len);
} VmmWriter;

/* Where a backend sends guest events (VmmBackendVtable.subscribe).
 *
 * The plugin owns the sink from the moment `subscribe` is called, even if
 * that call fails. `emit(ctx, json)` sends one BackendEvent as JSON; it is
 * thread-safe: call it from any thread, concurrently; it never blocks for
 * long. Call `release(ctx)` exactly once, after the last `emit`, and at the
 * latest before `close` of the connection returns; the host frees `ctx`
 * then. */
typedef struct VmmEventSink {
    void *ctx;
    void (*emit)(void *ctx, VmmBytes event_json);
    void (*release)(void *ctx);
} VmmEventSink;

/* Log levels for VmmHostApi.log, as in Rust's `log` crate. */
#define VMM_LOG_ERROR 1u
#define VMM_LOG_WARN 2u
#define VMM_LOG_INFO 3u
#define VMM_LOG_DEBUG 4u
#define VMM_LOG_TRACE 5u

/* What the host offers a plugin; valid for the life of the process.
 * Grows at its end like every vtable: check `size` (VMM_HAS_FIELD) before
 * using a field newer than VMM_HOST_API_MIN_SIZE. */
typedef struct VmmHostApi {
    size_t size;
    uint32_t abi_major;
    uint32_t abi_minor;
    /* Writes one record into the host's log. Thread-safe. */
    void (*log)(uint32_t level, VmmBytes target, VmmBytes message);
    /* ---- 1.1 ---- */
    /* Asks the user for credentials on behalf of a connection: `questions`
     * is CredentialQuestions JSON ({"uri": ..., "prompts": [{"kind",
     * "prompt", "challenge", "default"}]}); writes a JSON array of answer
     * strings, one per prompt. Blocks the calling thread until the user
     * answers; VMM_ERR_AUTH_FAILED when they cancel or nobody can ask. */
    VmmStatus (*ask_credentials)(VmmBytes questions, VmmWriter out);
} VmmHostApi;

/* `VmmHostApi.ask_credentials`. */
typedef VmmStatus (*VmmAskCredentialsFn)(VmmBytes questions, VmmWriter out);

typedef struct VmmBackendVtable VmmBackendVtable;
typedef struct VmmDecoderVtable VmmDecoderVtable;

/* What a plugin library is and provides. A static in the plugin. */
typedef struct VmmPluginDescriptor {
    /* sizeof(VmmPluginDescriptor) as the plugin was compiled. */
    size_t size;
    /* VMM_ABI_MAJOR and VMM_ABI_MINOR as the plugin was compiled. */
    uint32_t abi_major;
    uint32_t abi_minor;
    /* Short, stable name (NUL-terminated UTF-8), e.g. "libvirt". */
    const char *name;
    /* The plugin's own version (NUL-terminated UTF-8). */
    const char *version;
    /* NULL when the library holds no backend. */
    const VmmBackendVtable *backend;
    /* ---- 1.1 ---- */
    /* NULL when the library holds no framebuffer decoders. */
    const VmmDecoderVtable *decoders;
} VmmPluginDescriptor;

/* `const VmmPluginDescriptor *virt_manager_plugin_v1(const VmmHostApi *)`.
 * `host` stays valid for the life of the process; the plugin may keep it. */
typedef const VmmPluginDescriptor *(*VmmEntryFn)(const VmmHostApi *host);

/* The entry point a plugin defines (with VMM_PLUGIN_EXPORT). */
VMM_PLUGIN_EXPORT const VmmPluginDescriptor *virt_manager_plugin_v1(const VmmHostApi *host);

/* ---------------------------------------------------------------------
 * Hypervisor backends
 * ------------------------------------------------------------------- */

/* Opaque per-connection handle owned by the plugin. */
typedef void *VmmConnectionHandle;

/* A hypervisor backend.
 *
 * Threads: `info` is called once, on the host's plugin-scan thread. Every
 * other call may come from any host thread and may block (the host never
 * calls a backend from its GUI thread); calls on one connection may run
 * concurrently, so a backend must be thread-safe.
 *
 * JSON schemas are named after the types of plugins/api/src/types.rs. */
struct VmmBackendVtable {
    /* sizeof(VmmBackendVtable) as the plugin was compiled; at least
     * VMM_BACKEND_VTABLE_MIN_SIZE (the 1.0 table). */
    size_t size;
    /* Writes BackendInfo JSON (URI schemes, capabilities, presets). */
    VmmStatus (*info)(VmmWriter out, VmmWriter err);
    /* Opens a connection to `uri` and stores its handle in `*conn`. */
    VmmStatus (*open)(VmmBytes uri, VmmConnectionHandle *conn, VmmWriter err);
    /* Closes and frees a connection; releases its event sink, if any,
     * before returning. The handle is invalid afterwards. */
    void (*close)(VmmConnectionHandle conn);
    /* Writes a JSON array of DomainInfo. */
    VmmStatus (*list_domains)(VmmConnectionHandle conn, VmmWriter out, VmmWriter err);
    /* Starts delivering BackendEvent JSON to `sink` (see VmmEventSink for
     * who owns it). At most one sink per connection; a second call
     * replaces, and releases, the first. */
    VmmStatus (*subscribe)(VmmConnectionHandle conn, VmmEventSink sink, VmmWriter err);
    /* ---- 1.1 ---- */
    /* Writes ConnectionInfo JSON. */
    VmmStatus (*connection_info)(VmmConnectionHandle conn, VmmWriter out, VmmWriter err);
    /* Statistics of every guest in one call: `request` is StatsRequest
     * JSON; writes a JSON array of DomainStats. */
    VmmStatus (*domain_stats)(VmmConnectionHandle conn, VmmBytes request, VmmWriter out,
                              VmmWriter err);
    /* Writes HostStats JSON. */
    VmmStatus (*host_stats)(VmmConnectionHandle conn, VmmWriter out, VmmWriter err);
    /* Runs a DomainAction (JSON) on the guest with this UUID. */
    VmmStatus (*domain_action)(VmmConnectionHandle conn, VmmBytes uuid, VmmBytes action,
                               VmmWriter err);
    /* Writes the guest's DomainConfig JSON. */
    VmmStatus (*domain_config)(VmmConnectionHandle conn, VmmBytes uuid, VmmWriter out,
                               VmmWriter err);
    /* Applies ConfigChanges (JSON) all or nothing; writes ApplyResult JSON. */
    VmmStatus (*apply_domain_config)(VmmConnectionHandle conn, VmmBytes uuid, VmmBytes changes,
                                     VmmWriter out, VmmWriter err);
    /* Defines a guest from a backend-specific JSON spec; writes the new
     * guest's DomainInfo JSON. */
    VmmStatus (*define_domain)(VmmConnectionHandle conn, VmmBytes spec, VmmWriter out,
                               VmmWriter err);
    /* Opens the guest's graphical console: writes ConsoleEndpoint JSON.
     * The host sets `*fd` to -1 before the call. A backend that connected
     * a socket itself stores its descriptor in `*fd` and the host owns it
     * from then on, even if the call fails; otherwise the endpoint names
     * host and port. Passwords belong to the host: leave `password` out
     * unless the guest's own configuration holds one. */
    VmmStatus (*open_console)(VmmConnectionHandle conn, VmmBytes uuid, int *fd, VmmWriter out,
                              VmmWriter err);
    /* Sends a KeySequence (JSON) to the guest. */
    VmmStatus (*send_keys)(VmmConnectionHandle conn, VmmBytes uuid, VmmBytes keys,
                           VmmWriter err);
    /* Writes a picture of the guest's screen (PNG or binary PPM bytes). */
    VmmStatus (*screenshot)(VmmConnectionHandle conn, VmmBytes uuid, VmmWriter out,
                            VmmWriter err);
    /* Writes a JSON array of NetworkInfo. */
    VmmStatus (*list_networks)(VmmConnectionHandle conn, VmmWriter out, VmmWriter err);
    /* Runs a NetworkAction (JSON) on the named network. */
    VmmStatus (*network_action)(VmmConnectionHandle conn, VmmBytes name, VmmBytes action,
                                VmmWriter err);
    /* Writes a JSON array of StoragePoolInfo. */
    VmmStatus (*list_storage_pools)(VmmConnectionHandle conn, VmmWriter out, VmmWriter err);
    /* Runs a StoragePoolAction (JSON) on the named pool. */
    VmmStatus (*storage_pool_action)(VmmConnectionHandle conn, VmmBytes name, VmmBytes action,
                                     VmmWriter err);
};

/* Size of the first (1.0) backend vtable: the size word and five calls.
 * The host accepts nothing shorter. */
#define VMM_BACKEND_VTABLE_MIN_SIZE offsetof(VmmBackendVtable, connection_info)
/* Size of the first (1.0) descriptor, which ended after `backend`. */
#define VMM_DESCRIPTOR_MIN_SIZE offsetof(VmmPluginDescriptor, decoders)
/* Size of the first (1.0) host API table. */
#define VMM_HOST_API_MIN_SIZE offsetof(VmmHostApi, ask_credentials)

/* ---------------------------------------------------------------------
 * Framebuffer decoders (1.1)
 * ------------------------------------------------------------------- */

/* An RFB pixel format (RFC 6143, 7.4), as negotiated on the wire.
 *
 * Hosts of ABI 1.x always hand decoders the host's own format: 32 bits
 * per pixel, depth 24, native-endian words 0x00RRGGBB (red_shift 16,
 * green_shift 8, blue_shift 0, maxima 255, big_endian as the machine is);
 * a decoder may refuse any other format with VMM_ERROR_NOT_SUPPORTED. */
typedef struct VmmPixelFormat {
    uint8_t bits_per_pixel;
    uint8_t depth;
    uint8_t big_endian;
    uint8_t true_colour;
    uint16_t red_max;
    uint16_t green_max;
    uint16_t blue_max;
    uint8_t red_shift;
    uint8_t green_shift;
    uint8_t blue_shift;
    uint8_t _padding[3];
} VmmPixelFormat;

/* A rectangle of a FramebufferUpdate, with its encoding. */
typedef struct VmmRect {
    uint16_t x;
    uint16_t y;
    uint16_t width;
    uint16_t height;
    int32_t encoding;
} VmmRect;

/* The host's framebuffer: `height` rows of `width` 32-bit pixels in the
 * host's format (above), rows `stride` bytes apart; `pixels` and `stride`
 * are 4-byte aligned. The host has checked that the rectangle lies inside
 * the framebuffer. A decoder writes only inside its rectangle and may read
 * anywhere (CopyRect). Valid only during the `decode` call. */
typedef struct VmmFramebuffer {
    uint8_t *pixels;
    size_t stride;
    uint32_t width;
    uint32_t height;
} VmmFramebuffer;

/* The decoder needs at least `count` more bytes than it was given; the
 * host calls again with the rectangle's data from the same start. */
#define VMM_DECODE_NEED_MORE 1u
/* The decoder consumed `count` (> 0) bytes and kept its place; the host
 * calls again with the data after them. */
#define VMM_DECODE_PARTIAL 2u
/* The rectangle is complete after `count` bytes. */
#define VMM_DECODE_DONE 3u

/* What one decode call achieved. `count` never exceeds the bytes given
 * for PARTIAL and DONE (the host treats a larger count as an error). */
typedef struct VmmDecodeResult {
    uint32_t kind;
    size_t count;
} VmmDecodeResult;

/* Opaque decoder instance owned by the plugin. */
typedef void *VmmDecoderHandle;

/* The framebuffer decoders of a library.
 *
 * Threads: `info` is called once, on the plugin-scan thread. The host
 * makes one instance per encoding per console connection; an instance is
 * used by one thread at a time (the connection's) but may move between
 * threads; different instances run concurrently. The data plane: `decode`
 * gets raw pointers into the host's buffers, with no copy and no
 * allocation per rectangle. */
struct VmmDecoderVtable {
    /* sizeof(VmmDecoderVtable) as the plugin was compiled; at least
     * VMM_DECODER_VTABLE_MIN_SIZE. */
    size_t size;
    /* Writes DecoderLibraryInfo JSON: the encodings offered. */
    VmmStatus (*info)(VmmWriter out, VmmWriter err);
    /* Creates a stateful decoder for one encoding and one connection and
     * stores it in `*instance`. `format` is borrowed for the call. */
    VmmStatus (*create)(int32_t encoding, const VmmPixelFormat *format,
                        VmmDecoderHandle *instance, VmmWriter err);
    /* Frees an instance. */
    void (*destroy)(VmmDecoderHandle instance);
    /* Decodes (part of) one rectangle: `data` holds the bytes after the
     * rectangle header that the host has (from the rectangle's start, or
     * after the last PARTIAL); the decoder writes pixels into `fb` inside
     * `rect` and fills `*result`. */
    VmmStatus (*decode)(VmmDecoderHandle instance, const VmmRect *rect, VmmBytes data,
                        const VmmFramebuffer *fb, VmmDecodeResult *result, VmmWriter err);
};

/* Size of the first decoder vtable (1.1). */
#define VMM_DECODER_VTABLE_MIN_SIZE sizeof(VmmDecoderVtable)

#ifdef __cplusplus
}
#endif

#endif /* VIRT_MANAGER_PLUGIN_H */
