/// Where response bytes come from: the TLS connection, or a buffer in tests.
protocol ByteStream {
    /// The next bytes, or an empty array at end of stream.
    func read() throws(KubernetesError) -> [UInt8]
}

/// An HTTP/1.1 response read from a connection: status, headers (lower-cased names) and body,
/// framed by Content-Length, chunked encoding, or the end of the stream.
struct HTTPResponse {
    static let maximumBytes = 16 * 1024 * 1024

    let status: Int
    let headers: [String: String]
    let body: [UInt8]

    static func read(from connection: some ByteStream) throws(KubernetesError) -> HTTPResponse {
        var data: [UInt8] = []
        var headerEnd: Int?
        while headerEnd == nil {
            let chunk = try connection.read()
            if chunk.isEmpty { throw KubernetesError(.transport, "connection closed before the response headers arrived") }
            data += chunk
            headerEnd = findHeaderEnd(data)
            if headerEnd == nil, data.count > 64 * 1024 { throw KubernetesError(.transport, "response headers are too large") }
        }
        let headerBytes = data[..<headerEnd!]
        var body = Array(data[(headerEnd! + 4)...])
        let (status, headers) = try parseHead(String(decoding: headerBytes, as: UTF8.self))
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            body = try readChunked(initial: body, connection: connection)
        } else if let lengthText = headers["content-length"] {
            guard let length = Int(lengthText), length >= 0, length <= maximumBytes else {
                throw KubernetesError(.transport, "invalid Content-Length \(lengthText)")
            }
            while body.count < length {
                let chunk = try connection.read()
                if chunk.isEmpty { throw KubernetesError(.transport, "connection closed after \(body.count) of \(length) body bytes") }
                body += chunk
            }
            body = Array(body.prefix(length))
        } else {
            while true {
                let chunk = try connection.read()
                if chunk.isEmpty { break }
                body += chunk
                if body.count > maximumBytes { throw KubernetesError(.transport, "response body is larger than \(maximumBytes) bytes") }
            }
        }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    private static func findHeaderEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for index in 0...(data.count - 4) where data[index] == 13 && data[index + 1] == 10 && data[index + 2] == 13 && data[index + 3] == 10 {
            return index
        }
        return nil
    }

    private static func parseHead(_ text: String) throws(KubernetesError) -> (Int, [String: String]) {
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw KubernetesError(.transport, "not an HTTP response: \(String(lines.first?.prefix(80) ?? ""))")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers[name] = String(value)
        }
        return (status, headers)
    }

    private static func readChunked(initial: [UInt8], connection: some ByteStream) throws(KubernetesError) -> [UInt8] {
        var buffer = initial
        var position = 0
        var body: [UInt8] = []
        func fill(_ needed: Int) throws(KubernetesError) {
            while buffer.count - position < needed {
                let chunk = try connection.read()
                if chunk.isEmpty { throw KubernetesError(.transport, "connection closed inside a chunked body") }
                buffer += chunk
            }
        }
        while true {
            var lineEnd: Int?
            while lineEnd == nil {
                lineEnd = buffer[position...].indices.first { $0 + 1 < buffer.count && buffer[$0] == 13 && buffer[$0 + 1] == 10 }
                if lineEnd == nil { try fill(buffer.count - position + 1) }
            }
            let sizeText = String(decoding: buffer[position..<lineEnd!], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(), radix: 16), size >= 0 else {
                throw KubernetesError(.transport, "invalid chunk size")
            }
            position = lineEnd! + 2
            if size == 0 { return body }
            try fill(size + 2)
            body += buffer[position..<(position + size)]
            position += size + 2
            if body.count > maximumBytes { throw KubernetesError(.transport, "response body is larger than \(maximumBytes) bytes") }
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(filter { !$0.isWhitespace })
    }
}
