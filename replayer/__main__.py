from replayer.cli import main

main()
