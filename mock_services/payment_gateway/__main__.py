from mock_services.payment_gateway.app import main

main()
