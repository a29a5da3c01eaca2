from forgetctl.cli import main

main()
