import Foundation
import Interception
import NFTables
import Testing
import TestSupport

@Suite struct RuleTextTests {
    @Test func defaultPodScriptMatchesTheFixture() throws {
        let rules = RedirectPlan(InterceptionPolicy()).rules(ipv6: false)
        let fixture = try String(contentsOf: Paths.packageRoot.appendingPathComponent("Tests/Fixtures/default-redirect.nft"), encoding: .utf8)
        let script = NFTRuleText.script(for: rules)
        #expect(script == fixture, "\(script)")
    }
}
