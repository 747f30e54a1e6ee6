import NIOCore
import NIOHTTP1
import NIOPosix

/// Small HTTP/1.1 servers for the agent: health and readiness, metrics.
public enum AgentHTTPServer {
    public static func listen(host: String, port: Int, route: AgentRoute) async throws -> Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RouteHandler(route: route))
                }
            }
            .bind(host: host, port: port).get()
    }
}

/// Collects one request, runs the route, writes its answer.
final class RouteHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let route: AgentRoute
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(route: AgentRoute) {
        self.route = route
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
        case .body(var buffer):
            if body.count + buffer.readableBytes > 4 * 1024 * 1024 {
                context.close(promise: nil)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            self.head = nil
            let (path, query) = AgentRequest.split(head.uri)
            let request = AgentRequest(method: head.method.rawValue, path: path, query: query, body: body)
            if let answer = route.immediate(request) {
                write(answer, for: head, context: context)
                return
            }
            let route = route
            let promise = context.eventLoop.makePromise(of: AgentAnswer.self)
            promise.completeWithTask { await route.deferred(request) }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { answer in
                let (handler, context) = bound.value
                handler.write(answer, for: head, context: context)
            }
        }
    }

    private func write(_ answer: AgentAnswer, for head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("Content-Type", answer.contentType), ("Content-Length", String(answer.body.count))])
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: answer.status), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
