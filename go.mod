module github.com/sledgo/sled

go 1.23

require (
	github.com/anishathalye/porcupine v1.3.1
	github.com/klauspost/compress v1.18.0
)
