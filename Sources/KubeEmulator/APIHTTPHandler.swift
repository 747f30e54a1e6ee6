import JSON
import NIOCore
import NIOHTTP1

/// One HTTP connection to the emulator: authenticates the bearer token, applies any injected fault,
/// routes the request and writes the JSON answer.
final class APIHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let services: EmulatorServices
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// The store subscription of the watch this connection is streaming, if any.
    private var watchSubscription: Int?

    init(services: EmulatorServices) {
        self.services = services
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            respond(context: context, head: head)
            self.head = nil
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let authorized = services.accepts(head.headers["authorization"].first)
        services.record(RecordedRequest(method: head.method.rawValue, path: head.uri, authorized: authorized,
                                        userAgent: head.headers["user-agent"].first ?? "", body: body))
        switch services.faults.next() {
        case .hang?:
            return
        case .stallMidResponse?:
            let body = Array(APIStatus(code: 500, reason: "InternalError", message: "the rest of this body never comes").json.description.utf8)
            let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(body.count))])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            let half = context.channel.allocator.buffer(bytes: body.prefix(body.count / 2))
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(half))), promise: nil)
            return
        case .closeConnection?:
            context.close(promise: nil)
            return
        case .status(let code, let retryAfter)?:
            let status = APIStatus(code: code, reason: code == 429 ? "TooManyRequests" : "InternalError",
                                   message: "injected failure \(code)")
            var headers: [(String, String)] = []
            if let retryAfter { headers.append(("Retry-After", String(retryAfter))) }
            write(context: context, head: head, status: code, body: Array(status.json.description.utf8), extraHeaders: headers)
            return
        case .garbageBody?:
            write(context: context, head: head, status: 200, body: Array("<html>not the API</html>".utf8), contentType: "text/html")
            return
        case .rawAnswer(let bytes, let filler)?:
            writeRaw(context: context, bytes: bytes, fillerBytes: filler)
            return
        case .delay(let milliseconds)?:
            let body = self.body
            let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                handler.value.0.serve(context: handler.value.1, head: head, body: body, authorized: authorized)
            }
            return
        case nil:
            break
        }
        serve(context: context, head: head, body: body, authorized: authorized)
    }

    private func serve(context: ChannelHandlerContext, head: HTTPRequestHead, body: [UInt8], authorized: Bool) {
        guard authorized else {
            write(context: context, head: head, status: 401, body: Array(APIStatus.unauthorized.json.description.utf8))
            return
        }
        switch services.router.route(method: head.method.rawValue, target: head.uri,
                                           contentType: head.headers["content-type"].first, body: body) {
        case .response(let response):
            write(context: context, head: head, status: response.status, body: response.body)
        case .watch(let request):
            startWatch(context: context, head: head, request: request)
        }
    }

    /// Streams newline-delimited `WatchEvent`s in a chunked 200 response, as the API server does, until
    /// the client goes away, `timeoutSeconds` passes, or a test cuts the watch.
    private func startWatch(context: ChannelHandlerContext, head: HTTPRequestHead, request: WatchRequest) {
        let headers = HTTPHeaders([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        let channel = context.channel
        let loop = context.eventLoop
        let (backlog, subscription) = services.router.store.subscribe(after: request.resourceVersion) { change in
            guard request.matches(change) else { return }
            let line = WatchRequest.eventLine(change)
            loop.execute {
                guard channel.isActive else { return }
                channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(bytes: line))), promise: nil)
            }
        }
        watchSubscription = subscription
        services.watchStarted(channel)
        guard let backlog else {
            let line = request.expiredLine(current: services.router.store.currentResourceVersion)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: line)))), promise: nil)
            endWatch(context: context)
            return
        }
        for change in backlog where request.matches(change) {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: WatchRequest.eventLine(change))))), promise: nil)
        }
        context.flush()
        if let seconds = request.timeoutSeconds {
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
            loop.scheduleTask(in: .seconds(Int64(seconds))) {
                let (handler, context) = bound.value
                guard handler.watchSubscription == subscription else { return }
                handler.endWatch(context: context)
            }
        }
    }

    private func endWatch(context: ChannelHandlerContext) {
        if let watchSubscription {
            services.router.store.unsubscribe(watchSubscription)
            self.watchSubscription = nil
        }
        services.watchEnded(context.channel)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let watchSubscription {
            services.router.store.unsubscribe(watchSubscription)
            self.watchSubscription = nil
        }
        services.watchEnded(context.channel)
        context.fireChannelInactive()
    }

    private func write(context: ChannelHandlerContext, head: HTTPRequestHead, status: Int, body: [UInt8],
                       contentType: String = "application/json", extraHeaders: [(String, String)] = []) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.count))])
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Writes from the HTTP encoder's place in the pipeline, so the bytes reach TLS unframed.
    private func writeRaw(context: ChannelHandlerContext, bytes: [UInt8], fillerBytes: Int) {
        guard let raw = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) else {
            context.close(promise: nil)
            return
        }
        raw.write(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        let block = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
        var left = fillerBytes
        while left > 0 {
            raw.write(NIOAny(context.channel.allocator.buffer(bytes: block.prefix(left))), promise: nil)
            left -= min(left, block.count)
        }
        let channel = context.channel
        raw.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
