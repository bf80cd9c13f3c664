// SPDX-License-Identifier: MIT
/*
 * An AVL tree of nodes keyed by a 64-bit start address, for the type1
 * backend's DMA mappings (the kernel keeps them in an rb-tree; only the
 * order and the O(log n) searches matter here).  Duplicate keys are not
 * inserted by the callers.
 */
#include <stddef.h>

#include "uapi/internal.h"

static int height(const struct uapi_tree_node *n)
{
	return n ? n->height : 0;
}

static void update(struct uapi_tree_node *n)
{
	int l = height(n->left), r = height(n->right);

	n->height = (l > r ? l : r) + 1;
}

/* Put @new where @old hangs from its parent (or the root). */
static void replace_child(struct uapi_tree *t, struct uapi_tree_node *parent,
			  struct uapi_tree_node *old, struct uapi_tree_node *new)
{
	if (!parent)
		t->root = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
	if (new)
		new->parent = parent;
}

static struct uapi_tree_node *rotate_left(struct uapi_tree *t, struct uapi_tree_node *x)
{
	struct uapi_tree_node *y = x->right;

	replace_child(t, x->parent, x, y);
	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	y->left = x;
	x->parent = y;
	update(x);
	update(y);
	return y;
}

static struct uapi_tree_node *rotate_right(struct uapi_tree *t, struct uapi_tree_node *x)
{
	struct uapi_tree_node *y = x->left;

	replace_child(t, x->parent, x, y);
	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	y->right = x;
	x->parent = y;
	update(x);
	update(y);
	return y;
}

/* Restore the balance from @n up to the root. */
static void rebalance(struct uapi_tree *t, struct uapi_tree_node *n)
{
	while (n) {
		int bal;

		update(n);
		bal = height(n->left) - height(n->right);
		if (bal > 1) {
			if (height(n->left->left) < height(n->left->right))
				rotate_left(t, n->left);
			n = rotate_right(t, n);
		} else if (bal < -1) {
			if (height(n->right->right) < height(n->right->left))
				rotate_right(t, n->right);
			n = rotate_left(t, n);
		}
		n = n->parent;
	}
}

void uapi_tree_insert(struct uapi_tree *t, struct uapi_tree_node *n)
{
	struct uapi_tree_node **link = &t->root, *parent = NULL;

	while (*link) {
		parent = *link;
		link = n->key < parent->key ? &parent->left : &parent->right;
	}
	n->left = n->right = NULL;
	n->parent = parent;
	n->height = 1;
	*link = n;
	t->count++;
	rebalance(t, parent);
}

void uapi_tree_erase(struct uapi_tree *t, struct uapi_tree_node *n)
{
	struct uapi_tree_node *fix;

	if (n->left && n->right) {
		/* Swap in the successor: the leftmost node of the right subtree. */
		struct uapi_tree_node *s = n->right;

		while (s->left)
			s = s->left;
		fix = s->parent == n ? s : s->parent;
		if (s->parent != n) {
			replace_child(t, s->parent, s, s->right);
			s->right = n->right;
			s->right->parent = s;
		}
		replace_child(t, n->parent, n, s);
		s->left = n->left;
		s->left->parent = s;
	} else {
		struct uapi_tree_node *child = n->left ? n->left : n->right;

		fix = n->parent;
		replace_child(t, n->parent, n, child);
	}
	t->count--;
	rebalance(t, fix);
	n->left = n->right = n->parent = NULL;
}

struct uapi_tree_node *uapi_tree_first(const struct uapi_tree *t)
{
	struct uapi_tree_node *n = t->root;

	while (n && n->left)
		n = n->left;
	return n;
}

struct uapi_tree_node *uapi_tree_next(const struct uapi_tree_node *n)
{
	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return (struct uapi_tree_node *)n;
	}
	while (n->parent && n->parent->right == n)
		n = n->parent;
	return n->parent;
}

struct uapi_tree_node *uapi_tree_prev(const struct uapi_tree_node *n)
{
	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return (struct uapi_tree_node *)n;
	}
	while (n->parent && n->parent->left == n)
		n = n->parent;
	return n->parent;
}

struct uapi_tree_node *uapi_tree_le(const struct uapi_tree *t, uint64_t key)
{
	struct uapi_tree_node *n = t->root, *best = NULL;

	while (n) {
		if (n->key <= key) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

struct uapi_tree_node *uapi_tree_ge(const struct uapi_tree *t, uint64_t key)
{
	struct uapi_tree_node *n = t->root, *best = NULL;

	while (n) {
		if (n->key >= key) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}
