— log.example.com/tenants/acme V5sLUx7sqi5k/wvJUd9aG6P0DNYur8QqJb3cgHEGAXgZWntnYcNBxK53T9WCEo+2AHVkr2a+IHH/oTd9A5kMyfzwKw4=
