— log.example.com/tenants/acme Hgq4j70Os98uB+HGM9bZk5KruTRV46bCKQyS+MboO3EGwGJMjj4+G8Dz9m+wnHewjj/lIRhnzqhg8a7nNw2pmvXsVQM=
