— log.example.com/tenants/acme Hgq4jzb+v2EAMlZhizdCY5CWvdKlwxnHl4CLXqlYhNJd4Pji5xM50QoKA0/Dk//QW8BFm6rfz3iOnOvxlIXSlSxDsgc=
