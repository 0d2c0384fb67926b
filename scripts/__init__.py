"""Project maintenance scripts (standard library only); nothing in the packages imports them."""
