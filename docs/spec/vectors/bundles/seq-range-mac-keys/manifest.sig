— log.example.com/tenants/acme Hgq4jyFMVbkGoAMi72GfhKr9XaOKaVQxqHw+kkA/UJzDDc6v0HkUU/LkRTBUOrRoMt5CsoB7/l5wwMki7ZmvfrOXYgs=
