— log.example.com/tenants/acme Hgq4jx8z/p3e7kitxDuuXJz8BOy8s+/YuF6RCf7pyR39iLx/5eMjafgYuy/mZs3qmV/s71kb4CdsW+xEs5ib6BUqCgM=
