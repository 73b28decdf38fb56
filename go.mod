module github.com/sledgo/sled

go 1.26.8
