import JSON

/// The subset of YAML that kubeconfig files use (what kubectl, client-go and cloud CLIs write):
/// block mappings and sequences, plain and quoted scalars, comments, empty or simple flow
/// collections. Anything else (anchors, tags, block scalars) is rejected with its line number rather
/// than misread. The result is a `JSONValue`, so JSON and YAML kubeconfigs share one decoder.
struct KubeconfigYAML {
    private struct Line {
        let number: Int
        var indent: Int
        var text: Substring
    }

    private var lines: [Line] = []
    private var index = 0

    static func parse(_ text: String) throws(KubernetesError) -> JSONValue {
        var parser = KubeconfigYAML()
        try parser.tokenize(text)
        guard !parser.lines.isEmpty else { return .null }
        let value = try parser.parseNode(indent: parser.lines[0].indent)
        if parser.index < parser.lines.count {
            throw parser.error("unexpected content", at: parser.lines[parser.index].number)
        }
        return value
    }

    private mutating func tokenize(_ text: String) throws(KubernetesError) {
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var content = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let leading = content.prefix { $0 == " " || $0 == "\t" }
            if leading.contains("\t") { throw error("tab used for indentation", at: offset + 1) }
            content = Self.stripComment(content.dropFirst(leading.count))
            while content.last == " " { content = content.dropLast() }
            if content.isEmpty || content == "---" || content == "..." { continue }
            lines.append(Line(number: offset + 1, indent: leading.count, text: content))
        }
    }

    /// Removes a `#` comment that starts a line or follows whitespace, outside quotes.
    private static func stripComment(_ text: Substring) -> Substring {
        var quote: Character?
        var previous: Character = " "
        for position in text.indices {
            let character = text[position]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#", previous == " " {
                return text[text.startIndex..<position]
            }
            previous = character
        }
        return text
    }

    private mutating func parseNode(indent: Int) throws(KubernetesError) -> JSONValue {
        let line = lines[index]
        if isSequenceItem(line.text) { return try parseSequence(indent: indent) }
        if splitKey(line.text) != nil { return try parseMapping(indent: indent) }
        index += 1
        return try scalarOrFlow(line.text, line: line.number)
    }

    private mutating func parseMapping(indent: Int) throws(KubernetesError) -> JSONValue {
        var object = JSONObject()
        while index < lines.count, lines[index].indent == indent, !isSequenceItem(lines[index].text) {
            let line = lines[index]
            guard let (key, rest) = splitKey(line.text) else { throw error("expected `key: value`", at: line.number) }
            index += 1
            if rest.isEmpty {
                if index < lines.count, lines[index].indent > indent {
                    object[key] = try parseNode(indent: lines[index].indent)
                } else if index < lines.count, lines[index].indent == indent, isSequenceItem(lines[index].text) {
                    object[key] = try parseSequence(indent: indent)
                } else {
                    object[key] = .null
                }
            } else {
                object[key] = try scalarWithContinuation(rest, line: line.number, indent: indent)
            }
        }
        if index < lines.count, lines[index].indent > indent {
            throw error("unexpected indentation", at: lines[index].number)
        }
        return .object(object)
    }

    private mutating func parseSequence(indent: Int) throws(KubernetesError) -> JSONValue {
        var elements: [JSONValue] = []
        while index < lines.count, lines[index].indent == indent, isSequenceItem(lines[index].text) {
            let line = lines[index]
            let afterDash = line.text.dropFirst()
            let rest = afterDash.drop { $0 == " " }
            if rest.isEmpty {
                index += 1
                if index < lines.count, lines[index].indent > indent {
                    elements.append(try parseNode(indent: lines[index].indent))
                } else {
                    elements.append(.null)
                }
            } else {
                // "- key: value" opens a mapping whose keys align with `key`.
                let column = indent + (line.text.count - rest.count)
                lines[index] = Line(number: line.number, indent: column, text: rest)
                if isSequenceItem(rest) || splitKey(rest) != nil {
                    elements.append(try parseNode(indent: column))
                } else {
                    index += 1
                    elements.append(try scalarOrFlow(rest, line: line.number))
                }
            }
        }
        return .array(elements)
    }

    /// A plain scalar may continue on more-indented lines (long base64 values wrapped by editors).
    private mutating func scalarWithContinuation(_ text: Substring, line: Int, indent: Int) throws(KubernetesError) -> JSONValue {
        var text = String(text)
        let isPlain = !(text.hasPrefix("\"") || text.hasPrefix("'") || text.hasPrefix("[") || text.hasPrefix("{"))
        while isPlain, index < lines.count, lines[index].indent > indent {
            if isSequenceItem(lines[index].text) || splitKey(lines[index].text) != nil {
                throw error("unexpected indentation", at: lines[index].number)
            }
            text += " " + lines[index].text
            index += 1
        }
        return try scalarOrFlow(Substring(text), line: line)
    }

    private func isSequenceItem(_ text: Substring) -> Bool {
        text == "-" || text.hasPrefix("- ")
    }

    /// Splits `key: value` (or `key:`) outside quotes; nil when the line is not a mapping entry.
    private func splitKey(_ text: Substring) -> (String, Substring)? {
        if text.hasPrefix("\"") || text.hasPrefix("'") {
            guard let quote = text.first, let close = text.dropFirst().firstIndex(of: quote) else { return nil }
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":"), after.count == 1 || after.dropFirst().first == " " else { return nil }
            let key = (try? Self.quoted(text[text.startIndex...close])) ?? ""
            return (key, after.dropFirst().drop { $0 == " " })
        }
        if let first = text.first, "[{&*!|>%@`".contains(first) { return nil }
        var position = text.startIndex
        while let colon = text[position...].firstIndex(of: ":") {
            let next = text.index(after: colon)
            if next == text.endIndex || text[next] == " " {
                return (String(text[text.startIndex..<colon]), text[next...].drop { $0 == " " })
            }
            position = next
        }
        return nil
    }

    private func scalarOrFlow(_ text: Substring, line: Int) throws(KubernetesError) -> JSONValue {
        if let first = text.first, "&*!|>%@`".contains(first) {
            throw error("unsupported YAML feature '\(first)' (anchors, aliases, tags and block scalars are not used in kubeconfigs)", at: line)
        }
        if text.hasPrefix("[") || text.hasPrefix("{") { return try flow(text, line: line) }
        if text.hasPrefix("\"") || text.hasPrefix("'") {
            do { return .string(try Self.quoted(text)) } catch { throw self.error(error.message, at: line) }
        }
        return Self.plain(String(text))
    }

    private func flow(_ text: Substring, line: Int) throws(KubernetesError) -> JSONValue {
        var reader = FlowReader(text: text)
        do throws(FlowReader.Failure) {
            let value = try reader.value()
            reader.skipSpaces()
            guard reader.atEnd else { throw FlowReader.Failure(message: "unexpected text after a flow collection") }
            return value
        } catch {
            throw self.error(error.message, at: line)
        }
    }

    /// Flow collections on one line (`[a, {b: c}]`), as people write them in hand-made kubeconfigs.
    private struct FlowReader {
        struct Failure: Error { let message: String }

        let text: Substring
        var position: Substring.Index

        init(text: Substring) {
            self.text = text
            position = text.startIndex
        }

        var atEnd: Bool { position == text.endIndex }

        mutating func skipSpaces() {
            while position < text.endIndex, text[position] == " " { position = text.index(after: position) }
        }

        mutating func value() throws(Failure) -> JSONValue {
            skipSpaces()
            guard position < text.endIndex else { throw Failure(message: "missing value in flow collection") }
            switch text[position] {
            case "[": return try collection(close: "]") { reader throws(Failure) in try reader.value() }.map { .array($0) } ?? .array([])
            case "{":
                var object = JSONObject()
                _ = try collection(close: "}") { reader throws(Failure) -> Bool in
                    let key = try reader.scalarText(stoppingAtColon: true)
                    reader.skipSpaces()
                    guard reader.position < reader.text.endIndex, reader.text[reader.position] == ":" else {
                        throw Failure(message: "expected `key: value` in flow mapping")
                    }
                    reader.position = reader.text.index(after: reader.position)
                    object[key] = try reader.value()
                    return true
                }
                return .object(object)
            case "\"", "'":
                return .string(try scalarText(stoppingAtColon: false))
            default:
                return KubeconfigYAML.plain(try scalarText(stoppingAtColon: false))
            }
        }

        /// Reads `open element, element ... close`; returns the elements.
        mutating func collection<T>(close: Character, _ element: (inout FlowReader) throws(Failure) -> T) throws(Failure) -> [T]? {
            position = text.index(after: position)
            var elements: [T] = []
            skipSpaces()
            if position < text.endIndex, text[position] == close {
                position = text.index(after: position)
                return elements
            }
            while true {
                elements.append(try element(&self))
                skipSpaces()
                guard position < text.endIndex else { throw Failure(message: "unterminated flow collection") }
                let separator = text[position]
                position = text.index(after: position)
                if separator == close { return elements }
                guard separator == "," else { throw Failure(message: "expected ',' or '\(close)' in flow collection") }
            }
        }

        /// A quoted or plain scalar; plain ones end at `,`, `]`, `}` (and at `: ` for keys).
        mutating func scalarText(stoppingAtColon: Bool) throws(Failure) -> String {
            skipSpaces()
            guard position < text.endIndex else { throw Failure(message: "missing value in flow collection") }
            let first = text[position]
            if first == "\"" || first == "'" {
                var end = text.index(after: position)
                while end < text.endIndex {
                    if text[end] == first {
                        if first == "'", text.index(after: end) < text.endIndex, text[text.index(after: end)] == "'" {
                            end = text.index(end, offsetBy: 2)
                            continue
                        }
                        break
                    }
                    if first == "\"", text[end] == "\\" { end = text.index(after: end) }
                    if end < text.endIndex { end = text.index(after: end) }
                }
                guard end < text.endIndex else { throw Failure(message: "unterminated quoted string") }
                let quoted = text[position...end]
                position = text.index(after: end)
                do { return try KubeconfigYAML.quoted(quoted) } catch { throw Failure(message: error.message) }
            }
            if "&*!|>%@`".contains(first) { throw Failure(message: "unsupported YAML feature '\(first)'") }
            let start = position
            while position < text.endIndex {
                let character = text[position]
                if character == "," || character == "]" || character == "}" { break }
                if stoppingAtColon, character == ":" { break }
                position = text.index(after: position)
            }
            var plain = text[start..<position]
            while plain.last == " " { plain = plain.dropLast() }
            return String(plain)
        }
    }

    struct QuoteError: Error { let message: String }

    static func quoted(_ text: Substring) throws(QuoteError) -> String {
        guard let quote = text.first, text.count >= 2, text.last == quote else { throw QuoteError(message: "unterminated quoted string") }
        let body = text.dropFirst().dropLast()
        if quote == "'" { return body.replacingDoubledQuotes() }
        var result = ""
        var iterator = body.makeIterator()
        while let character = iterator.next() {
            guard character == "\\" else { result.append(character); continue }
            switch iterator.next() {
            case "n": result.append("\n")
            case "t": result.append("\t")
            case "r": result.append("\r")
            case "\\": result.append("\\")
            case "\"": result.append("\"")
            case "/": result.append("/")
            case "0": result.append("\0")
            case "u":
                var hex = ""
                for _ in 0..<4 { if let digit = iterator.next() { hex.append(digit) } }
                guard let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
                    throw QuoteError(message: "invalid \\u escape")
                }
                result.unicodeScalars.append(scalar)
            default: throw QuoteError(message: "unsupported escape in double-quoted string")
            }
        }
        return result
    }

    static func plain(_ text: String) -> JSONValue {
        switch text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case "null", "Null", "NULL", "~": return .null
        default: break
        }
        if let value = try? JSONParser.parse(text), case .number = value { return value }
        return .string(text)
    }

    private func error(_ message: String, at line: Int) -> KubernetesError {
        KubernetesError(.kubeconfigInvalid, "line \(line): \(message)")
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var trimmed = self
        while trimmed.first == " " { trimmed = trimmed.dropFirst() }
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        return trimmed
    }

    fileprivate func replacingDoubledQuotes() -> String {
        var result = ""
        var previousWasQuote = false
        for character in self {
            if character == "'", previousWasQuote { previousWasQuote = false; continue }
            previousWasQuote = character == "'"
            result.append(character)
        }
        return result
    }
}
