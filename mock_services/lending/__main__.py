from mock_services.lending.app import main

main()
