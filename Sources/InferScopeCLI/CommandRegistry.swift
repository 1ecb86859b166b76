/// Every `inferscope` command. To add one, append an instance (one line, keep the list sorted
/// by command name); each command lives in its own `<Name>Command.swift`.
public enum CommandRegistry {
    public static let all: [any Command] = [
        AnalyzeCommand(),
        DiffCommand(),
        GateCommand(),
        GenerateCommand(),
        ImportCommand(),
        ModelExportCommand(),
        ProfileCommand(),
        RecordTestCommand(),
        ReportCommand(),
        ServeCommand(),
        SweepCommand(),
        ValidateCommand(),
    ]
}
