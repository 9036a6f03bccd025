/*
 * validate.h: checking a parsed definition and building its model (internal to spec/).
 */
#ifndef FO_VALIDATE_H
#define FO_VALIDATE_H

struct fo_def;
struct fo_diags;

/* Checks def->root and fills the model in def (allocating from def->a). Adds every
 * problem to d. Returns 0 or FO_EDEFINITION. */
int fo_def_validate(struct fo_def *def, struct fo_diags *d);

#endif
