# The type of a JSON value, from nixpkgs' lib alone: what `(pkgs.formats.json { }).type` is, so the
# options (and the evaluation check that runs without nixpkgs) need no `pkgs`.
{ lib }:
let
  inherit (lib) types;
  valueType =
    types.nullOr (
      types.oneOf [
        types.bool
        types.int
        types.float
        types.str
        types.path
        (types.attrsOf valueType)
        (types.listOf valueType)
      ]
    )
    // {
      description = "JSON value";
    };
in
valueType
