package sled_test

import (
	"fmt"

	"github.com/sledgo/sled"
)

func Example() {
	db, err := sled.Config{Temporary: true}.Open()
	if err != nil {
		panic(err)
	}
	defer db.Close()

	db.Insert([]byte("apple"), []byte("red"))
	db.Insert([]byte("banana"), []byte("yellow"))
	db.Insert([]byte("cherry"), []byte("dark red"))

	v, _ := db.Get([]byte("banana"))
	fmt.Printf("banana is %s\n", v)

	it := db.Range([]byte("b"), nil)
	for it.Next() {
		fmt.Printf("%s=%s\n", it.Key(), it.Value())
	}
	it.Close()

	var b sled.Batch
	b.Remove([]byte("apple"))
	b.Insert([]byte("date"), []byte("brown"))
	if err := db.ApplyBatch(&b); err != nil {
		panic(err)
	}
	n, _ := db.Len()
	fmt.Println("entries:", n)
	// Output:
	// banana is yellow
	// banana=yellow
	// cherry=dark red
	// entries: 3
}

func ExampleTree_Merge() {
	db, _ := sled.Config{Temporary: true}.Open()
	defer db.Close()
	db.SetMergeOperator(func(key, old, operand []byte) []byte {
		return append(append([]byte{}, old...), operand...)
	})
	db.Merge([]byte("log"), []byte("a"))
	v, _ := db.Merge([]byte("log"), []byte("b"))
	fmt.Printf("%s\n", v)
	// Output: ab
}
