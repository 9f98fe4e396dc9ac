// Package client is a test stub of controller-runtime's client.
package client

import "context"

// ObjectKey names an object.
type ObjectKey struct {
	Namespace string
	Name      string
}

// Object is any API object.
type Object interface{}

// ObjectList is any API list.
type ObjectList interface{}

// Client reads and writes API objects.
type Client interface {
	Get(ctx context.Context, key ObjectKey, obj Object) error
	List(ctx context.Context, list ObjectList) error
}
