from mock_services.credit_bureau.app import main

main()
