#ifndef CTLS_TRUST_ANCHORS_H
#define CTLS_TRUST_ANCHORS_H
#include <bearssl.h>
#include <stddef.h>

typedef struct {
    br_x509_trust_anchor *anchors;
    size_t count;
} trust_anchor_list;

/// Decodes every CERTIFICATE in a PEM bundle into BearSSL trust anchors. Returns 0, or -1 with a
/// message in `error`.
int trust_anchors_from_pem(const unsigned char *pem, size_t length, trust_anchor_list *out, char *error, size_t error_length);
void trust_anchors_free(trust_anchor_list *list);
#endif
