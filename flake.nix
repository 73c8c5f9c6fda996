{
  description = "vpsfw: a firewall and mini-IPS for virtual private servers";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        default = pkgs.callPackage ./nix/package.nix { };
      });

      nixosModules.vpsfw =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.vpsfw.package = lib.mkDefault self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };
      nixosModules.default = self.nixosModules.vpsfw;

      checks = forAllSystems (pkgs: import ./nix/tests { inherit pkgs self; });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = with pkgs; [
            nodejs_20
            python3
            pkg-config
            libnetfilter_queue
            libnfnetlink
            iptables
            ipset
            iproute2
            hping3
            tcpdump
          ];
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt);
    };
}
