#ifndef CTLS_CERTIFICATE_NAMES_H
#define CTLS_CERTIFICATE_NAMES_H
#include <stddef.h>
/// 1 when the DER certificate lists `ip` (4 or 16 bytes) as a subjectAltName IP address, else 0.
int certificate_has_ip_address(const unsigned char *der, size_t der_length, const unsigned char *ip, size_t ip_length);
#endif
