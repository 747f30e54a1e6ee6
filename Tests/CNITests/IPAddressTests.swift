import CNI
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("::", "::"), ("::1", "::1"),
        ("2001:db8::", "2001:db8::"), ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"), ("::ffff:192.0.2.1", "::ffff:c000:201"),
        ("2001:db8:1:0:1:0:0:1", "2001:db8:1:0:1::1"),
    ])
    func parsesAndFormatsCanonically(text: String, canonical: String) throws {
        #expect(try #require(IPAddress(text)).description == canonical)
    }

    @Test(arguments: ["192.0.2", "192.0.2.256", "01.2.3.4", "1.2.3.4.5", ":::", "1::2::3", "fe80::1%eth0", "12345::", "", "g::1"])
    func rejectsMalformedAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func prefixesMaskHostBits() throws {
        let prefix = try #require(IPPrefix("10.1.2.3/12"))
        #expect(prefix.network.description == "10.0.0.0/12")
        #expect(prefix.maskBytes == [255, 240, 0, 0])
        #expect(try #require(IPPrefix("2001:db8::1/33")).network.description == "2001:db8::/33")
        #expect(IPPrefix("10.0.0.0/33") == nil)
        #expect(IPPrefix("10.0.0.0/08") == nil)
        #expect(IPPrefix("10.0.0.0") == nil)
        #expect(IPAddress("127.0.0.6")?.isLoopback == true)
        #expect(IPAddress("::1")?.isLoopback == true)
    }
}
