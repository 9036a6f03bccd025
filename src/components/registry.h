/*
 * registry.h: the table of every component fallout knows. Lookup is by kind and name,
 * ignoring case. The default set is what users get; a test-only fixture set (Fallout's
 * own test components) is added by test builds with fo_registry_add_set.
 */
#ifndef FO_REGISTRY_H
#define FO_REGISTRY_H

#include <stddef.h>

#include "components/component.h"

/* Returns the component of that kind and name (ignoring case), or NULL. */
const struct fo_component *fo_registry_find(enum fo_kind kind, const char *name);
/* Returns the closest known name of that kind for a "did you mean", or NULL. */
const char *fo_registry_suggest(enum fo_kind kind, const char *name);
/* Returns the i-th registered component (all kinds, default set first), or NULL past the end. */
const struct fo_component *fo_registry_at(size_t i);
/* Number of registered components. */
size_t fo_registry_count(void);
/* Adds a NULL-terminated set of components (the fixture set). The set must outlive the
 * registry's use. Adding the same set twice does nothing. */
void fo_registry_add_set(const struct fo_component *const *set);

#endif
