module github.com/sipkit/sipkit

go 1.26
