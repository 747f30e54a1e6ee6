/// Standard base64 (RFC 4648, padding optional, whitespace ignored), as kubeconfig `*-data` fields use.
enum Base64 {
    private static let invalid: UInt8 = 0xFF
    private static let skip: UInt8 = 0xFE
    /// Value of each input byte: 0-63, `skip` for whitespace, `invalid` otherwise.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        for byte in [0x20, 0x09, 0x0A, 0x0D] { table[byte] = skip }
        return table
    }()

    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var paddingSeen = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "=") {
                paddingSeen = true
                continue
            }
            let value = values[Int(byte)]
            if value == skip { continue }
            if value == invalid || paddingSeen { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return bits >= 6 ? nil : output
    }
}
