package sled_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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

// Open a database in a directory, close it, and open it again: what was
// written before Close is there.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sled-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "db") // created by Open

	db, err := sled.Open(path)
	if err != nil {
		panic(err)
	}
	fmt.Println("existing database:", db.WasRecovered())
	if _, err := db.Insert([]byte("greeting"), []byte("hello")); err != nil {
		panic(err)
	}
	if err := db.Close(); err != nil { // Close makes the writes durable
		panic(err)
	}

	db, err = sled.Open(path)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	v, err := db.Get([]byte("greeting"))
	if err != nil {
		panic(err)
	}
	fmt.Println("existing database:", db.WasRecovered())
	fmt.Printf("greeting = %s\n", v)
	// Output:
	// existing database: false
	// existing database: true
	// greeting = hello
}

func ExampleDB_Transaction() {
	db, err := sled.Config{Temporary: true}.Open()
	if err != nil {
		panic(err)
	}
	defer db.Close()
	accounts, _ := db.OpenTree("accounts")
	accounts.Insert([]byte("alice"), []byte("100"))

	err = db.Transaction(func(tx *sled.Tx) error { // serializable, over any trees
		a, err := tx.Get(accounts, []byte("alice"))
		if err != nil {
			return err
		}
		if string(a) != "100" {
			return errors.New("insufficient funds") // aborts: nothing is written
		}
		tx.Insert(accounts, []byte("alice"), []byte("0"))
		return tx.Insert(accounts, []byte("bob"), []byte("100"))
	})
	if err != nil {
		panic(err)
	}

	snap, _ := db.Snapshot() // a consistent view until Close
	defer snap.Close()
	accounts.Insert([]byte("bob"), []byte("150"))
	then, _ := snap.Get(accounts, []byte("bob"))
	now, _ := accounts.Get([]byte("bob"))
	fmt.Printf("bob: %s in the snapshot, %s now\n", then, now)

	db.View(func(tx *sled.Tx) error {
		it := tx.Range(accounts, nil, nil)
		defer it.Close()
		for it.Next() {
			fmt.Printf("%s=%s\n", it.Key(), it.Value())
		}
		return it.Err()
	})
	// Output:
	// bob: 100 in the snapshot, 150 now
	// alice=0
	// bob=150
}
