module ffitest

go 1.19
