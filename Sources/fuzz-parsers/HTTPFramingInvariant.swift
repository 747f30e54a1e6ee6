import Kubernetes

/// What the plugin's HTTP/1.1 response reader must keep for any bytes a peer sends: the same answer
/// (or the same error) however the bytes are split into reads, a body within the limit, and never
/// more held back than the limits allow plus one read. Small limits, so inputs reach them.
enum HTTPFramingInvariant {
    static let limits = HTTPLimits(headerBytes: 512, bodyBytes: 2048, lineBytes: 40)

    enum Outcome: Equatable {
        case response(HTTPResponse)
        case failure(String)
    }

    /// The first byte picks the read size; the rest is what the peer sends.
    static func check(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let stream = Array(bytes.dropFirst())
        let whole = outcome(stream, readSize: max(1, stream.count))
        let split = outcome(stream, readSize: Int(selector) % 23 + 1)
        if whole != split { fatalError("the answer depends on how reads split the bytes: \(whole) vs \(split)") }
        if case .response(let response) = whole, response.body.count > limits.bodyBytes {
            fatalError("a body of \(response.body.count) bytes passed a \(limits.bodyBytes)-byte limit")
        }
    }

    private static func outcome(_ stream: [UInt8], readSize: Int) -> Outcome {
        var parser = HTTPResponseParser(limits: limits)
        let bound = limits.headerBytes + limits.lineBytes + 4 + readSize
        do throws(KubernetesError) {
            var offset = 0
            while offset < stream.count {
                let end = min(stream.count, offset + readSize)
                if let response = try parser.consume(Array(stream[offset..<end])) { return .response(response) }
                if parser.bufferedBytes > bound { fatalError("\(parser.bufferedBytes) bytes held back, bound \(bound)") }
                offset = end
            }
            return .response(try parser.finish())
        } catch {
            return .failure(error.message)
        }
    }
}
