import InferScopeCLI

CLI.main()
