#include <stdlib.h>
#include <string.h>
#include "certificate_names.h"
#include "server_verifier.h"

#define VERIFIER(ctx) ((server_verifier *)(void *)(ctx))

static void verifier_start_chain(const br_x509_class **ctx, const char *server_name) {
    server_verifier *v = VERIFIER(ctx);
    v->certificate_index = -1;
    v->leaf_length = 0;
    v->leaf_key = NULL;
    v->minimal.vtable->start_chain(&v->minimal.vtable, server_name);
}

static void verifier_start_cert(const br_x509_class **ctx, uint32_t length) {
    server_verifier *v = VERIFIER(ctx);
    v->certificate_index++;
    if (v->certificate_index == 0) {
        if (length > v->leaf_capacity) {
            unsigned char *grown = realloc(v->leaf, length);
            if (grown) { v->leaf = grown; v->leaf_capacity = length; }
        }
        v->leaf_length = 0;
    }
    v->minimal.vtable->start_cert(&v->minimal.vtable, length);
}

static void verifier_append(const br_x509_class **ctx, const unsigned char *data, size_t length) {
    server_verifier *v = VERIFIER(ctx);
    if (v->certificate_index == 0 && v->leaf && v->leaf_length + length <= v->leaf_capacity) {
        memcpy(v->leaf + v->leaf_length, data, length);
        v->leaf_length += length;
    }
    v->minimal.vtable->append(&v->minimal.vtable, data, length);
}

static void verifier_end_cert(const br_x509_class **ctx) {
    server_verifier *v = VERIFIER(ctx);
    v->minimal.vtable->end_cert(&v->minimal.vtable);
}

static unsigned verifier_end_chain(const br_x509_class **ctx) {
    server_verifier *v = VERIFIER(ctx);
    unsigned result = v->minimal.vtable->end_chain(&v->minimal.vtable);
    if (v->insecure) {
        br_x509_decoder_init(&v->leaf_decoder, NULL, NULL);
        br_x509_decoder_push(&v->leaf_decoder, v->leaf, v->leaf_length);
        v->leaf_key = br_x509_decoder_get_pkey(&v->leaf_decoder);
        return v->leaf_key ? 0 : BR_ERR_X509_BAD_TAG_CLASS;
    }
    if (result != 0) return result;
    if (v->expected_ip_length > 0 &&
        !certificate_has_ip_address(v->leaf, v->leaf_length, v->expected_ip, v->expected_ip_length)) {
        return BR_ERR_X509_BAD_SERVER_NAME;
    }
    return 0;
}

static const br_x509_pkey *verifier_get_pkey(const br_x509_class *const *ctx, unsigned *usages) {
    const server_verifier *v = (const server_verifier *)(const void *)ctx;
    if (v->insecure) {
        if (usages) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
        return v->leaf_key;
    }
    return v->minimal.vtable->get_pkey(&v->minimal.vtable, usages);
}

static const br_x509_class server_verifier_class = {
    sizeof(server_verifier),
    verifier_start_chain,
    verifier_start_cert,
    verifier_append,
    verifier_end_cert,
    verifier_end_chain,
    verifier_get_pkey,
};

void server_verifier_init(server_verifier *verifier, const br_x509_trust_anchor *anchors, size_t anchor_count,
                          int insecure, const unsigned char *expected_ip, size_t expected_ip_length) {
    memset(verifier, 0, sizeof *verifier);
    verifier->vtable = &server_verifier_class;
    verifier->insecure = insecure;
    if (expected_ip_length == 4 || expected_ip_length == 16) {
        memcpy(verifier->expected_ip, expected_ip, expected_ip_length);
        verifier->expected_ip_length = expected_ip_length;
    }
    br_x509_minimal_init_full(&verifier->minimal, anchors, anchor_count);
}

void server_verifier_free(server_verifier *verifier) {
    free(verifier->leaf);
    verifier->leaf = NULL;
}
