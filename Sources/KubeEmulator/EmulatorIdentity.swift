import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509
import _CryptoExtras

/// The emulator's own certificate authority and serving certificate, made fresh at start-up.
/// RSA-2048 by default, like kubeadm's cluster CA and apiserver certificate.
public struct EmulatorIdentity: Sendable {
    public enum KeyType: String, Sendable, CaseIterable {
        case rsa2048 = "rsa"
        case ecdsaP256 = "ecdsa"
    }

    public let caCertificatePEM: String
    let serverCertificate: NIOSSLCertificate
    let serverKey: NIOSSLPrivateKey

    public init(keyType: KeyType, hostnames: [String] = ["localhost", "kubernetes.default.svc"],
                addresses: [[UInt8]] = [[127, 0, 0, 1], [UInt8](repeating: 0, count: 15) + [1]]) throws {
        let (caKey, caKeyPEM) = try Self.makeKey(keyType)
        let (serverKey, serverKeyPEM) = try Self.makeKey(keyType)
        _ = caKeyPEM
        let algorithm: Certificate.SignatureAlgorithm = keyType == .rsa2048 ? .sha256WithRSAEncryption : .ecdsaWithSHA256
        let now = Date()
        let caName = try DistinguishedName { CommonName("kube-emulator-ca") }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: caKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: caName, subject: caName, signatureAlgorithm: algorithm,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: caKey)
        let names = hostnames.map { GeneralName.dnsName($0) } + addresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }
        let server = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: serverKey.publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(365 * 86400),
            issuer: caName, subject: try DistinguishedName { CommonName("kube-apiserver") }, signatureAlgorithm: algorithm,
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: keyType == .rsa2048))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: caKey)
        caCertificatePEM = try ca.serializeAsPEM().pemString + "\n"
        var serializer = DER.Serializer()
        try serializer.serialize(server)
        serverCertificate = try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        self.serverKey = try NIOSSLPrivateKey(bytes: Array(serverKeyPEM.utf8), format: .pem)
    }

    private static func makeKey(_ type: KeyType) throws -> (Certificate.PrivateKey, String) {
        switch type {
        case .rsa2048:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            return (Certificate.PrivateKey(key), key.pemRepresentation)
        case .ecdsaP256:
            let key = P256.Signing.PrivateKey()
            return (Certificate.PrivateKey(key), key.pemRepresentation)
        }
    }

    func makeServerContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(serverCertificate)],
                                                                     privateKey: .privateKey(serverKey))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }
}
