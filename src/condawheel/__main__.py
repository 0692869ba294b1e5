from condawheel.cli import main

raise SystemExit(main())
