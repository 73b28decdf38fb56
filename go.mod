module github.com/sledgo/sled

go 1.26.8

require github.com/anishathalye/porcupine v1.3.1

require github.com/klauspost/compress v1.18.0 // indirect
