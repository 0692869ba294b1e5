from condawheel.cli.main import main

raise SystemExit(main())
