/*
 * A plugin from the future: ABI major version 2. Built with
 * -DV1_SYMBOL, it exports the 1.x entry symbol but describes itself as
 * 2.0, which the host must refuse by the descriptor's version; without
 * it, it exports only virt_manager_plugin_v2, as a real 2.x plugin would,
 * and the host finds no entry point it knows.
 *
 * Its descriptor starts like every descriptor (size, major, minor); what
 * follows is unknown to a 1.x host, which must not read it.
 */

#include <stddef.h>
#include <stdint.h>

#include "virt_manager_plugin.h"

typedef struct {
    size_t size;
    uint32_t abi_major;
    uint32_t abi_minor;
    const char *something_new;
} Descriptor20;

static const Descriptor20 descriptor = {sizeof(Descriptor20), 2, 0, "a field of ABI 2.0"};

#ifdef V1_SYMBOL
VMM_PLUGIN_EXPORT const VmmPluginDescriptor *virt_manager_plugin_v1(const VmmHostApi *h) {
    (void)h;
    return (const VmmPluginDescriptor *)(const void *)&descriptor;
}
#else
VMM_PLUGIN_EXPORT const void *virt_manager_plugin_v2(const void *host);
VMM_PLUGIN_EXPORT const void *virt_manager_plugin_v2(const void *host) {
    (void)host;
    return &descriptor;
}
#endif
