/// A setting the agent cannot start with: names the environment variable (and its flag) and the value.
public struct AgentConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let setting: AgentSetting
    public let value: String
    public let problem: String

    init(_ setting: AgentSetting, _ value: String, _ problem: String) {
        self.setting = setting
        self.value = value
        self.problem = problem
    }

    public var description: String {
        "\(setting.environmentName) (--\(setting.flagName))=\"\(value)\" \(problem)"
    }
}
