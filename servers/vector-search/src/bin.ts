#!/usr/bin/env node
import { main } from "@toolshed/server";
import server from "./server.js";

main(server);
