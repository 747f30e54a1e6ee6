#ifndef CTLS_SERVER_VERIFIER_H
#define CTLS_SERVER_VERIFIER_H
#include <bearssl.h>

/// BearSSL's minimal X.509 engine plus what the API server case needs on top: checking an IP
/// address against the certificate, and an explicit insecure mode (kubeconfig
/// `insecure-skip-tls-verify`) that takes the server key without validating the chain.
typedef struct {
    const br_x509_class *vtable;
    br_x509_minimal_context minimal;
    int insecure;
    unsigned char expected_ip[16];
    size_t expected_ip_length;  // 0: no IP check
    int certificate_index;
    unsigned char *leaf;
    size_t leaf_length, leaf_capacity;
    br_x509_decoder_context leaf_decoder;
    const br_x509_pkey *leaf_key;
} server_verifier;

void server_verifier_init(server_verifier *verifier, const br_x509_trust_anchor *anchors, size_t anchor_count,
                          int insecure, const unsigned char *expected_ip, size_t expected_ip_length);
void server_verifier_free(server_verifier *verifier);
#endif
