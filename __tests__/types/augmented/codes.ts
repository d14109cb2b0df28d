// The escape hatch of `ControlPlaneErrorCodes`, exactly as its doc comment gives it: a
// project that meets a code a later version of the store added names it once, and it is
// then a code everywhere in that project.
//
// This is a program of its own (compiled by __tests__/types.test.ts), not a file of
// caller.ts's: an augmentation applies to the whole program it is in, so there `NEW_CODE`
// would be a code too, and caller.ts could not show that the union is closed without one.
// It imports the package by its name (its "exports" give index.d.ts), as a project does.
// Its types are [] (neither @types/node nor bun-types): index.d.ts needs neither.
import { ControlPlaneError, type ControlPlaneErrorCode } from "smithers-control-plane";

declare module "smithers-control-plane" {
  interface ControlPlaneErrorCodes {
    NEW_CODE: true;
  }
}

export function advice(error: ControlPlaneError): string {
  switch (error.code) {
    case "NEW_CODE":
      return "upgrade the types";
    case "BUSY":
      return "retry";
    // @ts-expect-error still closed: a misspelt code does not compile
    case "NEW_CODEE":
      return "typo";
    default:
      return error.summary;
  }
}

export const added: ControlPlaneErrorCode = "NEW_CODE";
export const made = new ControlPlaneError("NEW_CODE", "A code of a later version.");
// @ts-expect-error a code nobody added is still no code
export const misspelt: ControlPlaneErrorCode = "NEW_C0DE";
